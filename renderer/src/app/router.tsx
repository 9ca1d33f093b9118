import {
  createHashHistory,
  createRootRoute,
  createRoute,
  createRouter,
  redirect,
  retainSearchParams,
  type RouterHistory,
} from '@tanstack/react-router';
import type { AgentStatus, AuditOutcome } from '@gatehouse/shared';
import { APPROVAL_STATUS_CHOICES, ApprovalsPage, type ShownApprovals } from '../features/approvals/ApprovalsPage.js';
import { AccountPage } from '../features/account/AccountPage.js';
import { AgentDetailPage, AGENT_TABS, type AgentTab } from '../features/agents/AgentDetailPage.js';
import { AGENT_STATUS_CHOICES, AgentsPage } from '../features/agents/AgentsPage.js';
import { AUDIT_OUTCOME_CHOICES, AuditPage } from '../features/audit/AuditPage.js';
import { ConnectionsPage } from '../features/connections/ConnectionsPage.js';
import { ConsentPage } from '../features/oauth/ConsentPage.js';
import { OAuthClientsPage } from '../features/oauth/OAuthClientsPage.js';
import { ServersPage } from '../features/servers/ServersPage.js';
import { SettingsPage } from '../features/settings/SettingsPage.js';
import { ToolsPage } from '../features/tools/ToolsPage.js';
import { UsersPage } from '../features/users/UsersPage.js';
import { WorkflowEditorPage } from '../features/workflows/WorkflowEditorPage.js';
import { WorkflowsPage } from '../features/workflows/WorkflowsPage.js';
import { ACTIVITY_WINDOWS, type ActivityWindowName } from '../features/overview/ActivityPanel.js';
import { OverviewPage } from '../features/overview/OverviewPage.js';
import { ProjectLayout } from './project.js';
import { Root } from './Root.js';
import { searchOffset, searchOneOf, searchText } from './search.js';

/**
 * The console's screens. Hash routes (`#/agents?project=default&status=active`) because the
 * desktop app loads the console from a file and the daemon serves it at `/`: the part after `#`
 * is the whole route in both. The project, filters and page offset live in the URL, so a link or
 * a reload shows the same screen.
 */
const rootRoute = createRootRoute({
  validateSearch: (search: Record<string, unknown>): { project?: string } => ({ project: searchText(search.project) }),
  // Moving between screens stays in the chosen project.
  search: { middlewares: [retainSearchParams(['project'])] },
  component: Root,
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/overview' });
  },
});

/** The screens that act in one project. */
const projectRoute = createRoute({ getParentRoute: () => rootRoute, id: '_project', component: ProjectLayout });

const overviewRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'overview',
  validateSearch: (search: Record<string, unknown>): { period?: ActivityWindowName } => ({
    period: searchOneOf(ACTIVITY_WINDOWS, search.period),
  }),
  component: OverviewPage,
});

const agentsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'agents',
  validateSearch: (
    search: Record<string, unknown>,
  ): { status?: AgentStatus; q?: string; offset?: number; cursor?: string } => ({
    status: searchOneOf(AGENT_STATUS_CHOICES, search.status),
    q: searchText(search.q),
    offset: searchOffset(search.offset),
    cursor: searchText(search.cursor),
  }),
  component: AgentsPage,
});

const agentRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'agents/$name',
  validateSearch: (search: Record<string, unknown>): { tab?: AgentTab } => ({
    tab: searchOneOf(AGENT_TABS, search.tab),
  }),
  component: AgentDetailPage,
});

const workflowsRoute = createRoute({ getParentRoute: () => projectRoute, path: 'workflows', component: WorkflowsPage });

const workflowRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'workflows/$name',
  component: WorkflowEditorPage,
});

const connectionsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'connections',
  component: ConnectionsPage,
});

const approvalsRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'approvals',
  validateSearch: (search: Record<string, unknown>): { status?: ShownApprovals; offset?: number } => ({
    status: searchOneOf(APPROVAL_STATUS_CHOICES, search.status),
    offset: searchOffset(search.offset),
  }),
  component: ApprovalsPage,
});

const auditRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'audit',
  validateSearch: (
    search: Record<string, unknown>,
  ): {
    event_type?: string;
    agent?: string;
    outcome?: AuditOutcome;
    after?: string;
    before?: string;
    offset?: number;
    cursor?: string;
  } => ({
    event_type: searchText(search.event_type),
    agent: searchText(search.agent),
    outcome: searchOneOf(AUDIT_OUTCOME_CHOICES, search.outcome),
    after: searchText(search.after),
    before: searchText(search.before),
    offset: searchOffset(search.offset),
    cursor: searchText(search.cursor),
  }),
  component: AuditPage,
});

/** Where the OAuth authorization server sends the browser for the admin's consent. */
const consentRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'oauth/consent/$uid',
  component: ConsentPage,
});

const serversRoute = createRoute({
  getParentRoute: () => projectRoute,
  path: 'servers',
  validateSearch: (search: Record<string, unknown>): { server?: string } => ({ server: searchText(search.server) }),
  component: ServersPage,
});

const usersRoute = createRoute({ getParentRoute: () => rootRoute, path: 'users', component: UsersPage });
const toolsRoute = createRoute({ getParentRoute: () => rootRoute, path: 'tools', component: ToolsPage });
const oauthClientsRoute = createRoute({ getParentRoute: () => rootRoute, path: 'oauth', component: OAuthClientsPage });
const settingsRoute = createRoute({ getParentRoute: () => rootRoute, path: 'settings', component: SettingsPage });
const accountRoute = createRoute({ getParentRoute: () => rootRoute, path: 'account', component: AccountPage });

export const routeTree = rootRoute.addChildren([
  indexRoute,
  projectRoute.addChildren([
    overviewRoute,
    agentsRoute,
    agentRoute,
    workflowsRoute,
    workflowRoute,
    connectionsRoute,
    approvalsRoute,
    auditRoute,
    serversRoute,
    consentRoute,
  ]),
  usersRoute,
  toolsRoute,
  oauthClientsRoute,
  settingsRoute,
  accountRoute,
]);

export function createConsoleRouter(history: RouterHistory = createHashHistory()) {
  return createRouter({ routeTree, history });
}

declare module '@tanstack/react-router' {
  interface Register {
    router: ReturnType<typeof createConsoleRouter>;
  }
}
