import { Type, type Static } from 'typebox';
import type { CallInput, CallResult } from './client/contract-client.js';
import type { RouteResult } from './route.js';
import { routes, type RouteName } from './routes/index.js';
import { AuditEvent } from './schemas/audit.js';
import { LoginRequest, SetupRequest } from './schemas/auth.js';
import { User } from './schemas/users.js';

/**
 * The `window.gatehouse` bridge between the console (renderer) and whoever holds the session:
 * Electron main over IPC in the desktop app, or the browser bridge in the daemon-served console.
 * Both implement `GatehouseBridge`; the renderer only ever sees this interface, never a token.
 */

/**
 * Routes the console never calls through `api`: those that mint or end session credentials
 * (the bridge's `session` channels own them and keep the tokens), agent-only routes, the
 * event stream (the `events` channel) and the OTAS compatibility routes.
 */
export const nonConsoleRoutes = [
  'setup',
  'login',
  'refresh',
  'logout',
  'consoleSignIn',
  'consoleRefresh',
  'consoleSignOut',
  'agentToken',
  'agentRefresh',
  'agentRevoke',
  'agentChallenge',
  'agentVerify',
  'agentTokenExchange',
  'authorize',
  'requestApproval',
  'events',
  'otasLogin',
  'otasCreateAgent',
  'otasAuthenticateUser',
  'otasListAgents',
  'otasCreateAgentSession',
  'otasCreateAgentKey',
  'otasRevokeAgentKey',
  'otasListProjects',
  'otasCreateProject',
  'otasListAgentSessions',
  'otasListSdkKeys',
  'otasCreateSdkKey',
  'otasRevokeSdkKey',
  'otasAuthenticateSdkKey',
] as const satisfies readonly RouteName[];

export type ConsoleRouteName = Exclude<RouteName, (typeof nonConsoleRoutes)[number]>;

export const isConsoleRoute = (name: string): name is ConsoleRouteName =>
  Object.hasOwn(routes, name) && !(nonConsoleRoutes as readonly string[]).includes(name);

type Route<N extends RouteName> = (typeof routes)[N];

/** Every bridge answer: data (and `total` for paged lists), or the daemon's problem. */
export type BridgeResult<T> = CallResult<T>;

export const SessionState = Type.Union([
  Type.Object({ status: Type.Literal('needs_setup') }),
  Type.Object({ status: Type.Literal('signed_out') }),
  Type.Object({ status: Type.Literal('signed_in'), user: User }),
]);
export type SessionState = Static<typeof SessionState>;

/** Where the console runs and which daemon it talks to (Settings screen). */
export const ShellInfo = Type.Object({
  shell: Type.Union([Type.Literal('electron'), Type.Literal('browser')]),
  daemon_url: Type.String(),
  app_version: Type.String(),
  /** The desktop app restarts the daemon it started; one started elsewhere restarts there. */
  can_restart_daemon: Type.Boolean(),
});
export type ShellInfo = Static<typeof ShellInfo>;

/** One change announced by `GET /v1/events`: the audit category (`agent`, `key`…) and its event. */
export const ConsoleEvent = Type.Object({ category: Type.String(), event: AuditEvent });
export type ConsoleEvent = Static<typeof ConsoleEvent>;

export interface GatehouseBridge {
  api<N extends ConsoleRouteName>(route: N, request: CallInput<N>): Promise<BridgeResult<RouteResult<Route<N>>>>;
  session: {
    state(): Promise<BridgeResult<SessionState>>;
    setup(body: SetupRequest): Promise<BridgeResult<SessionState>>;
    /** A `mfa_required` problem asks for `totp_code`. */
    login(body: LoginRequest): Promise<BridgeResult<SessionState>>;
    logout(): Promise<BridgeResult<SessionState>>;
  };
  /** Live changes of a project; returns the unsubscribe function. */
  events(projectId: string | null, listener: (event: ConsoleEvent) => void): () => void;
  shell(): Promise<BridgeResult<ShellInfo>>;
  /** Restarts the daemon (the desktop app's own); resolves once it is healthy again. */
  restartDaemon(): Promise<BridgeResult<ShellInfo>>;
}

/**
 * The IPC channels of the desktop bridge, each with the schema Electron main checks its
 * argument against before doing anything (the route-specific parts of `api` are then checked
 * against the route's own schemas). Main pushes events to the renderer on `eventPush`.
 */
export const bridgeChannels = {
  api: {
    channel: 'gatehouse:api',
    args: Type.Object(
      {
        route: Type.String({ maxLength: 64 }),
        params: Type.Optional(Type.Unknown()),
        query: Type.Optional(Type.Unknown()),
        body: Type.Optional(Type.Unknown()),
        projectId: Type.Optional(Type.String({ maxLength: 64 })),
      },
      { additionalProperties: false },
    ),
  },
  sessionState: { channel: 'gatehouse:session:state', args: Type.Null() },
  sessionSetup: { channel: 'gatehouse:session:setup', args: SetupRequest },
  sessionLogin: { channel: 'gatehouse:session:login', args: LoginRequest },
  sessionLogout: { channel: 'gatehouse:session:logout', args: Type.Null() },
  eventsSubscribe: {
    channel: 'gatehouse:events:subscribe',
    args: Type.Object({ projectId: Type.Union([Type.String({ maxLength: 64 }), Type.Null()]) }),
  },
  eventsUnsubscribe: { channel: 'gatehouse:events:unsubscribe', args: Type.Null() },
  shell: { channel: 'gatehouse:shell', args: Type.Null() },
  restartDaemon: { channel: 'gatehouse:daemon:restart', args: Type.Null() },
} as const;

export type BridgeChannel = (typeof bridgeChannels)[keyof typeof bridgeChannels]['channel'];
export const eventPushChannel = 'gatehouse:event';
