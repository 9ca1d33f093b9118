import {
  ContractClient,
  problem,
  type AuditEvent,
  type BridgeResult,
  type GatehouseBridge,
  type LoginRequest,
  type SessionState,
} from '@gatehouse/shared';

/**
 * `window.gatehouse` for the console the daemon serves (SPEC §1): the same interface Electron's
 * preload gives the desktop app, over the shared contract client. The access token lives in this
 * closure only (never in storage); the refresh token is an HttpOnly cookie page script cannot
 * read, sent only to the console session routes (see daemon/src/http/routes/console.routes.ts).
 */
export function createBrowserBridge(
  origin = window.location.origin,
  // Called as a plain function: the platform's fetch refuses to run as another object's method.
  send: typeof fetch = (input, init) => fetch(input, init),
): GatehouseBridge {
  let accessToken: string | null = null;
  const client = new ContractClient({
    baseUrl: origin,
    fetch: send,
    sameOriginCookies: true,
    tokens: {
      token: () => accessToken,
      // The client renews once at a time: the daemon treats a reused refresh token as theft.
      renew: async () => {
        const session = await client.call('consoleRefresh', {}, { token: null });
        accessToken = session.ok ? session.data.access_token : null;
      },
    },
  });

  async function signedIn(): Promise<BridgeResult<SessionState>> {
    const me = await client.call('whoami', {});
    if (!me.ok) return me.problem.code === 'unauthorized' ? { ok: true, data: { status: 'signed_out' } } : me;
    if (me.data.principal !== 'user')
      return { ok: false, problem: problem('forbidden', 'The console is for people, not agents.') };
    return { ok: true, data: { status: 'signed_in', user: me.data.user } };
  }

  async function login(body: LoginRequest): Promise<BridgeResult<SessionState>> {
    const session = await client.call('consoleSignIn', { body }, { token: null });
    if (!session.ok) return session;
    accessToken = session.data.access_token;
    return signedIn();
  }

  return {
    api: (name, request) => client.call(name, request),
    session: {
      async state() {
        const setup = await client.call('setupStatus', {}, { token: null });
        if (!setup.ok) return setup;
        if (setup.data.needs_setup) return { ok: true, data: { status: 'needs_setup' } };
        // A reload keeps no access token: the refresh cookie gets a new one, if the session lasts.
        if (!accessToken) await client.renew();
        if (!accessToken) return { ok: true, data: { status: 'signed_out' } };
        return signedIn();
      },
      async setup(body) {
        const created = await client.call('setup', { body }, { token: null });
        return created.ok ? login({ username: body.username, password: body.password }) : created;
      },
      login,
      async logout() {
        const token = accessToken;
        accessToken = null;
        if (token) await client.call('logout', { body: {} }, { token });
        await client.call('consoleSignOut', {}, { token: null });
        return { ok: true, data: { status: 'signed_out' } };
      },
    },
    events(projectId, listener) {
      const controller = new AbortController();
      void (async () => {
        if (!accessToken) await client.renew();
        await client.follow({ projectId: projectId ?? undefined, signal: controller.signal }, (message) =>
          listener({ category: message.event, event: JSON.parse(message.data) as AuditEvent }),
        );
      })();
      return () => controller.abort();
    },
    async shell() {
      const status = await client.call('status', {});
      if (!status.ok) return status;
      return {
        ok: true,
        data: { shell: 'browser', daemon_url: origin, app_version: status.data.version, can_restart_daemon: false },
      };
    },
    async restartDaemon() {
      const detail = 'A console in the browser cannot restart its daemon: restart it where it runs.';
      return { ok: false, problem: problem('conflict', detail) };
    },
  };
}
