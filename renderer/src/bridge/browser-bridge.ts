import {
  buildPath,
  problemTitle,
  problemType,
  routes,
  type BridgeResult,
  type ConsoleEvent,
  type GatehouseBridge,
  type Problem,
  type ProblemCode,
  type SessionState,
  type User,
} from '@gatehouse/shared';

interface Call {
  method: string;
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
  projectId?: string;
}

const problem = (code: ProblemCode, status: number, detail: string): Problem => ({
  type: problemType(code),
  title: problemTitle[code],
  status,
  detail,
  code,
});
const unreachable = () =>
  problem('daemon_unavailable', 503, 'The Gatehouse daemon cannot be reached; it may be restarting.');

const queryString = (query: Record<string, unknown> = {}) => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
};

/**
 * `window.gatehouse` for the console the daemon serves (SPEC §1): the same interface Electron's
 * preload gives the desktop app. The access token lives in this closure only (never in storage);
 * the refresh token is an HttpOnly cookie page script cannot read (see daemon/src/http/console.ts).
 */
export function createBrowserBridge(origin = window.location.origin): GatehouseBridge {
  let accessToken: string | null = null;
  let refreshing: Promise<boolean> | null = null;

  async function send(call: Call): Promise<Response> {
    const headers: Record<string, string> = {};
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (call.projectId) headers['x-project-id'] = call.projectId;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${origin}${call.path}${queryString(call.query)}`, {
      method: call.method,
      headers,
      credentials: 'same-origin',
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
    });
  }

  /** One refresh at a time: the daemon treats a reused refresh token as theft. */
  function refresh(): Promise<boolean> {
    refreshing ??= (async () => {
      try {
        const response = await fetch(`${origin}/console/session/refresh`, {
          method: 'POST',
          credentials: 'same-origin',
        });
        accessToken = response.ok ? ((await response.json()) as { access_token: string }).access_token : null;
        return accessToken !== null;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  async function result<T>(call: Call, retry = true): Promise<BridgeResult<T>> {
    let response: Response;
    try {
      response = await send(call);
      if (response.status === 401 && retry && (await refresh())) return result(call, false);
    } catch {
      return { ok: false, problem: unreachable() };
    }
    if (response.status === 204) return { ok: true, data: undefined as T };
    const body: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const isProblem = body !== null && typeof body === 'object' && 'code' in body;
      return {
        ok: false,
        problem: isProblem ? (body as Problem) : problem('internal', response.status, 'Unexpected answer.'),
      };
    }
    const total = response.headers.get('x-total-count');
    return { ok: true, data: body as T, ...(total !== null ? { total: Number(total) } : {}) };
  }

  async function signedIn(): Promise<BridgeResult<SessionState>> {
    const me = await result<{ principal: string; user?: User }>({ method: 'GET', path: routes.whoami.path });
    if (!me.ok) return me.problem.code === 'unauthorized' ? { ok: true, data: { status: 'signed_out' } } : me;
    if (!me.data.user)
      return { ok: false, problem: problem('forbidden', 403, 'The console is for people, not agents.') };
    return { ok: true, data: { status: 'signed_in', user: me.data.user } };
  }

  async function login(body: unknown): Promise<BridgeResult<SessionState>> {
    const session = await result<{ access_token: string }>({ method: 'POST', path: '/console/session', body }, false);
    if (!session.ok) return session;
    accessToken = session.data.access_token;
    return signedIn();
  }

  return {
    async api(name, request) {
      const route = routes[name];
      const { params, query, body, projectId } = request as {
        params?: Record<string, string>;
        query?: Record<string, unknown>;
        body?: unknown;
        projectId?: string;
      };
      return result({
        method: route.method,
        path: buildPath(route.path, params),
        ...(query ? { query } : {}),
        ...(body !== undefined ? { body } : {}),
        ...(projectId ? { projectId } : {}),
      });
    },
    session: {
      async state() {
        const setup = await result<{ needs_setup: boolean }>({ method: 'GET', path: routes.setupStatus.path }, false);
        if (!setup.ok) return setup;
        if (setup.data.needs_setup) return { ok: true, data: { status: 'needs_setup' } };
        if (!accessToken && !(await refresh())) return { ok: true, data: { status: 'signed_out' } };
        return signedIn();
      },
      async setup(body) {
        const created = await result({ method: 'POST', path: routes.setup.path, body }, false);
        return created.ok ? login({ username: body.username, password: body.password }) : created;
      },
      login,
      async logout() {
        if (accessToken) await result({ method: 'POST', path: routes.logout.path }, false);
        accessToken = null;
        await fetch(`${origin}/console/session`, { method: 'DELETE', credentials: 'same-origin' }).catch(() => null);
        return { ok: true, data: { status: 'signed_out' } };
      },
    },
    events(projectId, listener) {
      const controller = new AbortController();
      let lastEventId: string | null = null;
      const follow = async () => {
        while (!controller.signal.aborted) {
          try {
            if (!accessToken) await refresh();
            const headers: Record<string, string> = { authorization: `Bearer ${accessToken ?? ''}` };
            if (projectId) headers['x-project-id'] = projectId;
            if (lastEventId) headers['last-event-id'] = lastEventId;
            const response = await fetch(`${origin}${routes.events.path}`, { headers, signal: controller.signal });
            if (response.status === 401) await refresh();
            if (response.ok && response.body) {
              const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
              let buffer = '';
              for (;;) {
                const { value, done } = await reader.read();
                if (done) break;
                buffer += value;
                let end: number;
                while ((end = buffer.indexOf('\n\n')) >= 0) {
                  const block = buffer.slice(0, end);
                  buffer = buffer.slice(end + 2);
                  const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1];
                  const [category, data, id] = [field('event'), field('data'), field('id')];
                  if (id) lastEventId = id;
                  if (category && data) listener({ category, event: JSON.parse(data) } as ConsoleEvent);
                }
              }
            }
          } catch {
            // aborted, or the daemon went away: try again below unless unsubscribed
          }
          await new Promise((resolve) => setTimeout(resolve, 2000));
        }
      };
      void follow();
      return () => controller.abort();
    },
    async shell() {
      const status = await result<{ version: string }>({ method: 'GET', path: routes.status.path }, false);
      if (!status.ok) return status;
      return {
        ok: true,
        data: { shell: 'browser', daemon_url: origin, app_version: status.data.version, can_restart_daemon: false },
      };
    },
    async restartDaemon() {
      const detail = 'A console in the browser cannot restart its daemon: restart it where it runs.';
      return { ok: false, problem: problem('conflict', 409, detail) };
    },
  };
}
