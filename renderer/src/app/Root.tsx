import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate } from '@tanstack/react-router';
import { createContext, useContext, useEffect, useRef } from 'react';
import type { SessionState, User } from '@gatehouse/shared';
import { sessionKeys, sessionQueries } from '../features/session/queries.js';
import { Login, Setup } from '../features/session/SignIn.js';
import { ErrorNote, Loading } from '../ui/components.js';
import { useLiveUpdates } from './live-updates.js';
import { LastProjectContext, useChosenProject } from './project.js';
import { useTheme } from './theme.js';

const UserContext = createContext<User | null>(null);

/** The signed-in user (the console's screens render only once someone is signed in). */
export function useSignedInUser(): User {
  const user = useContext(UserContext);
  if (!user) throw new Error('useSignedInUser outside the console');
  return user;
}

/** First run, sign-in, or the console: whichever the daemon's session says. */
export function Root(): React.JSX.Element {
  const state = useQuery(sessionQueries.state());
  const lastProject = useRef<string | undefined>(undefined);
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
  return (
    <UserContext.Provider value={state.data.user}>
      <LastProjectContext.Provider value={lastProject}>
        <Shell user={state.data.user} />
      </LastProjectContext.Provider>
    </UserContext.Provider>
  );
}

// Fuzzy matching marks "Agents" current on an agent's page too; the project in the URL does not count.
const navLink = { activeOptions: { includeSearch: false } } as const;

function Shell({ user }: { user: User }): React.JSX.Element {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [theme, setTheme] = useTheme();
  const { project, projects, named } = useChosenProject();
  useLiveUpdates(project?.id ?? null);
  // The project in use goes into the URL when the URL did not name it (a link or a reload then
  // shows the same project), and is remembered for the next URL that names none.
  const lastProject = useContext(LastProjectContext);
  useEffect(() => {
    if (!project) return;
    lastProject.current = project.slug;
    if (!named) void navigate({ to: '.', search: (prev) => ({ ...prev, project: project.slug }), replace: true });
  }, [named, project, navigate, lastProject]);
  const admin = user.role === 'admin' || user.role === 'super_admin';

  const signOut = async () => {
    await window.gatehouse.session.logout();
    // Nothing of the signed-in session stays in memory.
    lastProject.current = undefined;
    client.removeQueries({ predicate: (query) => query.queryKey[0] !== sessionKeys.all[0] });
    client.setQueryData<SessionState>(sessionKeys.all, { status: 'signed_out' });
  };
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">Gatehouse</strong>
        <nav aria-label="Main">
          <Link to="/overview" {...navLink}>
            Overview
          </Link>
          <Link to="/agents" {...navLink}>
            Agents
          </Link>
          <Link to="/workflows" {...navLink}>
            Workflows
          </Link>
          <Link to="/connections" {...navLink}>
            Connections
          </Link>
          <Link to="/approvals" {...navLink}>
            Approvals
          </Link>
          <Link to="/audit" {...navLink}>
            Audit
          </Link>
          <Link to="/servers" {...navLink}>
            Servers
          </Link>
          {admin && (
            <Link to="/users" {...navLink}>
              Users
            </Link>
          )}
          {admin && (
            <Link to="/tools" {...navLink}>
              Tools
            </Link>
          )}
          {admin && (
            <Link to="/oauth" {...navLink}>
              OAuth
            </Link>
          )}
          <Link to="/settings" {...navLink}>
            Settings
          </Link>
        </nav>
        <span className="spacer" />
        <label>
          Project{' '}
          <select
            value={project?.slug ?? ''}
            // Another project: its own lists, from their first page.
            onChange={(event) => void navigate({ to: '.', search: { project: event.target.value } })}
            disabled={!projects.data}
          >
            {projects.data?.map((p) => (
              <option key={p.id} value={p.slug}>
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
        <Link to="/account" className="muted">
          {user.username}
        </Link>
        <button onClick={() => void signOut()}>Sign out</button>
      </header>
      <main>
        <Outlet />
      </main>
    </div>
  );
}
