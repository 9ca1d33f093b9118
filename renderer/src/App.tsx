import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { SessionState, User } from '@gatehouse/shared';
import { ApiError, call, keys, useLiveUpdates, WHOLE } from './api.js';
import { ErrorNote, Loading } from './components.js';
import { AgentDetail } from './screens/AgentDetail.js';
import { Account } from './screens/Account.js';
import { Approvals } from './screens/Approvals.js';
import { Audit } from './screens/Audit.js';
import { Agents } from './screens/Agents.js';
import { Login, Setup } from './screens/SignIn.js';
import { Settings } from './screens/Settings.js';
import { ToolsRoles } from './screens/ToolsRoles.js';
import { Users } from './screens/Users.js';
import { WorkflowEditor, Workflows } from './screens/Workflows.js';

const session = async (): Promise<SessionState> => {
  const result = await window.gatehouse.session.state();
  if (!result.ok) throw new ApiError(result.problem);
  return result.data;
};

/** Where the console is: `#/agents`, `#/agents/<name>`, `#/approvals`, `#/audit`, `#/settings` (hash routes work in both shells). */
function useRoute(): string[] {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const onChange = () => setRoute(read());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

/** The chosen theme is remembered on this machine (a preference, nothing secret). */
const THEME_KEY = 'gatehouse.theme';
function savedTheme(): string | null {
  try {
    return localStorage.getItem(THEME_KEY);
  } catch {
    return null; // storage unavailable: the system theme
  }
}
function saveTheme(theme: string): void {
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // not remembered, still applied
  }
}

export function App(): React.JSX.Element {
  const state = useQuery({ queryKey: ['session'], queryFn: session });
  if (state.isPending) return <Loading />;
  if (state.isError)
    return (
      <main className="center">
        <ErrorNote error={state.error} />
        <button onClick={() => void state.refetch()}>Try again</button>
      </main>
    );
  if (state.data.status === 'needs_setup') return <Setup />;
  if (state.data.status === 'signed_out') return <Login />;
  return <Console user={state.data.user} />;
}

function Console({ user }: { user: User }): React.JSX.Element {
  const client = useQueryClient();
  const route = useRoute();
  const [theme, setTheme] = useState(() => savedTheme() ?? document.documentElement.dataset.theme ?? 'auto');
  const projects = useQuery({ queryKey: keys.projects, queryFn: () => call('listProjects', { query: WHOLE }) });
  const [projectId, setProjectId] = useState<string | null>(null);
  // The chosen project, else the default one, else the first the user is a member of.
  const project =
    projects.data?.find((p) => p.id === projectId) ??
    projects.data?.find((p) => p.slug === 'default') ??
    projects.data?.[0];
  useLiveUpdates(project?.id ?? null);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    saveTheme(theme);
  }, [theme]);

  const signOut = async () => {
    await window.gatehouse.session.logout();
    // Nothing of the signed-in session stays in memory.
    client.removeQueries({ predicate: (query) => query.queryKey[0] !== 'session' });
    client.setQueryData<SessionState>(['session'], { status: 'signed_out' });
  };
  const [screen, name] = route;
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">Gatehouse</strong>
        <nav aria-label="Main">
          <a href="#/agents" aria-current={screen === 'agents' || !screen ? 'page' : undefined}>
            Agents
          </a>
          <a href="#/workflows" aria-current={screen === 'workflows' ? 'page' : undefined}>
            Workflows
          </a>
          <a href="#/approvals" aria-current={screen === 'approvals' ? 'page' : undefined}>
            Approvals
          </a>
          <a href="#/audit" aria-current={screen === 'audit' ? 'page' : undefined}>
            Audit
          </a>
          {(user.role === 'admin' || user.role === 'super_admin') && (
            <a href="#/users" aria-current={screen === 'users' ? 'page' : undefined}>
              Users
            </a>
          )}
          {(user.role === 'admin' || user.role === 'super_admin') && (
            <a href="#/tools" aria-current={screen === 'tools' ? 'page' : undefined}>
              Tools
            </a>
          )}
          <a href="#/settings" aria-current={screen === 'settings' ? 'page' : undefined}>
            Settings
          </a>
        </nav>
        <span className="spacer" />
        <label>
          Project{' '}
          <select
            value={project?.id ?? ''}
            onChange={(event) => setProjectId(event.target.value)}
            disabled={!projects.data}
          >
            {projects.data?.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Theme{' '}
          <select value={theme} onChange={(event) => setTheme(event.target.value)}>
            <option value="auto">System</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <a href="#/account" className="muted">
          {user.username}
        </a>
        <button onClick={() => void signOut()}>Sign out</button>
      </header>
      <main>
        {screen === 'settings' ? (
          <Settings />
        ) : screen === 'users' ? (
          <Users />
        ) : screen === 'tools' ? (
          <ToolsRoles />
        ) : screen === 'account' ? (
          <Account user={user} />
        ) : !project ? (
          projects.isError ? (
            <ErrorNote error={projects.error} />
          ) : projects.data ? (
            <p className="empty">You are not a member of any project yet: an admin can add you to one under Users.</p>
          ) : (
            <Loading />
          )
        ) : screen === 'workflows' && name ? (
          <WorkflowEditor projectId={project.id} name={name} />
        ) : screen === 'workflows' ? (
          <Workflows projectId={project.id} />
        ) : screen === 'approvals' ? (
          <Approvals projectId={project.id} />
        ) : screen === 'audit' ? (
          <Audit projectId={project.id} />
        ) : screen === 'agents' && name ? (
          <AgentDetail projectId={project.id} name={name} />
        ) : (
          <Agents projectId={project.id} />
        )}
      </main>
    </div>
  );
}
