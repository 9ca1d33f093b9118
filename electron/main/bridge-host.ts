import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  AuditEvent,
  bridgeChannels,
  buildPath,
  isConsoleRoute,
  Problem,
  problemStatus,
  problemTitle,
  problemType,
  routes,
  TokenPair,
  type BridgeChannel,
  type BridgeResult,
  type ConsoleEvent,
  type FieldError,
  type LoginRequest,
  type ProblemCode,
  type RouteDescriptor,
  type SessionState,
  type SetupRequest,
  type ShellInfo,
  type User,
} from '@gatehouse/shared';
import { SseParser } from './sse.js';

/** Who sent an IPC message: its frame's URL, whether it is the main frame, and how to push events back. */
export interface Sender {
  /** The sending WebContents' id: one event subscription per window. */
  id: number;
  url: string;
  isMainFrame: boolean;
  push(event: ConsoleEvent): void;
}

export interface BridgeHostOptions {
  /** The daemon's URL while it is healthy, else null. */
  daemonUrl(): string | null;
  /** Whether a URL is the app's own console (its custom protocol, or the dev server). */
  isAppUrl(url: string): boolean;
  appVersion: string;
  /** The daemon the app supervises, for Settings' restart (absent: nothing to restart). */
  daemon?: {
    canRestart(): boolean;
    /** Resolves once it is healthy again, or with the reason it could not start. */
    restart(): Promise<{ ok: true } | { ok: false; reason: string }>;
  };
  now?: () => number;
  fetch?: typeof fetch;
}

export type ApiArgs = Static<typeof bridgeChannels.api.args>;

interface Tokens {
  access: string;
  refresh: string;
  /** When the access token expires (ms since the epoch, by `now`). */
  expiresAt: number;
}

/** Access tokens are renewed this long before they expire, so a call never races the expiry. */
const REFRESH_MARGIN_MS = 60_000;
/** After a dropped event stream, how long before reconnecting. */
const RECONNECT_MS = 2000;

export const problem = (code: ProblemCode, detail: string, errors?: FieldError[]): Problem => ({
  type: problemType(code),
  title: problemTitle[code],
  status: problemStatus[code],
  detail,
  code,
  ...(errors ? { errors } : {}),
});

const fail = (code: ProblemCode, detail: string, errors?: FieldError[]) =>
  ({ ok: false, problem: problem(code, detail, errors) }) as const;

class DaemonUnavailable extends Error {}

/** Checks a value against a schema, collecting `{location, message}` errors like the daemon's. */
function check(schema: TSchema, value: unknown, location: string, errors: FieldError[]): void {
  for (const error of Value.Errors(schema, value)) {
    errors.push({ location: location + error.instancePath.replaceAll('/', '.'), message: error.message });
  }
}

/** The route-specific parts of an `api` call against the route's own params, query and body schemas. */
function checkRequest(route: RouteDescriptor, args: ApiArgs): FieldError[] {
  const errors: FieldError[] = [];
  const parts = [
    ['params', route.params, args.params, true],
    ['query', route.querystring, args.query, false],
    ['body', route.body, args.body, true],
  ] as const;
  for (const [location, schema, value, required] of parts) {
    if (!schema) {
      if (value !== undefined) errors.push({ location, message: 'this route takes none' });
    } else if (value === undefined) {
      if (required) errors.push({ location, message: 'is required' });
    } else {
      check(schema, value, location, errors);
    }
  }
  return errors;
}

function queryString(query: unknown): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(key, String(item));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * Electron main's side of the `window.gatehouse` bridge (SPEC §1, §7). It is the only holder of
 * the admin's access and refresh tokens — they never cross into the renderer, so a compromised
 * page cannot take the session elsewhere. Every IPC message is checked before anything happens:
 * the sender must be the app's own main frame, the channel declared, the argument valid against
 * the contract's schema (and for `api`, a console route with valid params, query and body).
 * Every answer is a `BridgeResult`; nothing throws across IPC.
 */
export class BridgeHost {
  readonly #options: BridgeHostOptions;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  #tokens: Tokens | null = null;
  #refreshing: Promise<void> | undefined;
  readonly #subscriptions = new Map<number, () => void>();
  readonly #sessionListeners = new Set<(signedIn: boolean) => void>();

  constructor(options: BridgeHostOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** The IPC entry point: one call per `ipcMain.handle` of a declared channel. */
  async handle(channel: string, arg: unknown, sender: Sender): Promise<BridgeResult<unknown>> {
    if (!sender.isMainFrame || !this.#options.isAppUrl(sender.url)) {
      return fail('forbidden', 'Only the Gatehouse console may use the bridge.');
    }
    const entry = Object.values(bridgeChannels).find((candidate) => candidate.channel === channel);
    if (!entry) return fail('bad_request', `Unknown channel ${channel}.`);
    const errors: FieldError[] = [];
    check(entry.args, arg, 'arg', errors);
    if (errors.length > 0) return fail('validation_failed', `Invalid argument for ${channel}.`, errors);

    switch (channel as BridgeChannel) {
      case bridgeChannels.api.channel:
        return this.api(arg as ApiArgs);
      case bridgeChannels.sessionState.channel:
        return this.sessionState();
      case bridgeChannels.sessionSetup.channel:
        return this.setup(arg as SetupRequest);
      case bridgeChannels.sessionLogin.channel:
        return this.login(arg as LoginRequest);
      case bridgeChannels.sessionLogout.channel:
        return this.logout();
      case bridgeChannels.eventsSubscribe.channel: {
        this.forgetSender(sender.id);
        const { projectId } = arg as { projectId: string | null };
        this.#subscriptions.set(sender.id, this.subscribe(projectId, sender.push));
        return { ok: true, data: null };
      }
      case bridgeChannels.eventsUnsubscribe.channel:
        this.forgetSender(sender.id);
        return { ok: true, data: null };
      case bridgeChannels.shell.channel:
        return this.shell();
      case bridgeChannels.restartDaemon.channel:
        return this.restartDaemon();
    }
  }

  /** Ends the event subscription of a window that went away. */
  forgetSender(id: number): void {
    this.#subscriptions.get(id)?.();
    this.#subscriptions.delete(id);
  }

  /** Calls a console route for the signed-in admin (main uses this too, e.g. the tray's approvals count). */
  async api(args: ApiArgs): Promise<BridgeResult<unknown>> {
    if (!isConsoleRoute(args.route)) return fail('bad_request', `${args.route} is not a console route.`);
    const route: RouteDescriptor = routes[args.route];
    const errors = checkRequest(route, args);
    if (errors.length > 0) return fail('validation_failed', `Invalid request for ${args.route}.`, errors);
    return this.#call(async () => {
      const path = buildPath(route.path, args.params as Record<string, string>) + queryString(args.query);
      const response = await this.#authorized(route.method, path, args.body, args.projectId);
      return this.#result(response, route.paged === true);
    });
  }

  async sessionState(): Promise<BridgeResult<SessionState>> {
    return this.#call<SessionState>(async () => {
      if (this.#tokens) {
        const whoami = await this.#authorized('GET', '/v1/whoami');
        // A session token always belongs to a human: whoami answers `{principal: 'user', user, …}`.
        if (whoami.ok)
          return { ok: true, data: { status: 'signed_in', user: ((await whoami.json()) as { user: User }).user } };
        if (whoami.status !== 401) return this.#failure(whoami);
        await whoami.body?.cancel();
      }
      const setup = (await (await this.#request('GET', '/auth/setup')).json()) as { needs_setup: boolean };
      return { ok: true, data: { status: setup.needs_setup ? 'needs_setup' : 'signed_out' } };
    });
  }

  /** First-run setup, then signs the new admin in. */
  async setup(body: SetupRequest): Promise<BridgeResult<SessionState>> {
    return this.#call(async () => {
      const response = await this.#request('POST', '/auth/setup', { body });
      if (!response.ok) return this.#failure(response);
      return this.login({ username: body.username, password: body.password });
    });
  }

  async login(body: LoginRequest): Promise<BridgeResult<SessionState>> {
    return this.#call(async () => {
      const response = await this.#request('POST', '/auth/login', { body });
      if (!response.ok) return this.#failure(response);
      this.#store(await response.json());
      return this.sessionState();
    });
  }

  /** Ends the session at the daemon (best effort) and forgets the tokens either way. */
  async logout(): Promise<BridgeResult<SessionState>> {
    const tokens = this.#tokens;
    this.#setTokens(null);
    if (tokens) {
      await this.#request('POST', '/auth/logout', {
        body: { refresh_token: tokens.refresh },
        token: tokens.access,
      }).catch(() => undefined);
    }
    return this.sessionState();
  }

  shell(): BridgeResult<ShellInfo> {
    const url = this.#options.daemonUrl();
    if (!url) return fail('daemon_unavailable', 'The Gatehouse daemon is not running.');
    return {
      ok: true,
      data: {
        shell: 'electron',
        daemon_url: url,
        app_version: this.#options.appVersion,
        can_restart_daemon: this.#options.daemon?.canRestart() ?? false,
      },
    };
  }

  /** Settings' restart. The session survives it: tokens are the daemon's, kept in its database. */
  async restartDaemon(): Promise<BridgeResult<ShellInfo>> {
    const daemon = this.#options.daemon;
    if (!daemon?.canRestart())
      return fail('conflict', 'This daemon was not started by the app: restart it where it runs.');
    const restarted = await daemon.restart();
    if (!restarted.ok) return fail('daemon_unavailable', `The daemon did not start again: ${restarted.reason}`);
    return this.shell();
  }

  get signedIn(): boolean {
    return this.#tokens !== null;
  }

  /** Calls `listener(signedIn)` whenever the session starts or ends; returns the unsubscribe function. */
  onSessionChange(listener: (signedIn: boolean) => void): () => void {
    this.#sessionListeners.add(listener);
    return () => this.#sessionListeners.delete(listener);
  }

  /**
   * Follows `GET /v1/events` of a project for as long as the session lasts: reconnects after a
   * drop (resuming from the last event id, so nothing is missed or repeated) and with a fresh
   * access token after a 401. Returns the function that ends it.
   */
  subscribe(projectId: string | null, listener: (event: ConsoleEvent) => void): () => void {
    const abort = new AbortController();
    const { signal } = abort;
    void (async () => {
      let lastEventId: string | undefined;
      while (!signal.aborted && this.#tokens) {
        try {
          const response = await this.#authorized('GET', '/v1/events', undefined, projectId ?? undefined, {
            signal,
            headers: lastEventId ? { 'last-event-id': lastEventId } : {},
          });
          if (response.ok && response.body) {
            const parser = new SseParser();
            const decoder = new TextDecoder();
            for await (const chunk of response.body) {
              for (const message of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
                const event: unknown = JSON.parse(message.data);
                if (!Value.Check(AuditEvent, event)) continue;
                lastEventId = message.id;
                listener({ category: message.event, event });
              }
            }
          } else {
            await response.body?.cancel();
            // Not allowed (no longer a member, signed out): reconnecting would not change that.
            if (response.status < 500) return;
          }
        } catch {
          // daemon gone or restarting: try again below
        }
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
      }
    })();
    return () => abort.abort();
  }

  /** Turns "the daemon cannot be reached" into its problem; every other failure is a bug. */
  async #call<T>(work: () => Promise<BridgeResult<T>>): Promise<BridgeResult<T>> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof DaemonUnavailable) return fail('daemon_unavailable', error.message);
      console.error('gatehouse bridge:', error);
      return fail('internal', 'The desktop app failed to handle this request.');
    }
  }

  async #request(
    method: string,
    path: string,
    options: {
      body?: unknown;
      token?: string | undefined;
      projectId?: string | undefined;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const url = this.#options.daemonUrl();
    if (!url) throw new DaemonUnavailable('The Gatehouse daemon is not running.');
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.projectId) headers['x-project-id'] = options.projectId;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await this.#fetch(url + path, {
        method,
        headers,
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new DaemonUnavailable(`The Gatehouse daemon at ${url} cannot be reached.`);
    }
  }

  /** A request with the session's access token; after a 401 the tokens are refreshed and it is sent once more. */
  async #authorized(
    method: string,
    path: string,
    body?: unknown,
    projectId?: string,
    extra: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    if (this.#tokens && this.#tokens.expiresAt - REFRESH_MARGIN_MS <= this.#now()) await this.#refresh();
    const sent = this.#tokens?.access;
    const send = (token: string | undefined) => this.#request(method, path, { body, token, projectId, ...extra });
    const response = await send(sent);
    if (response.status !== 401 || !sent) return response;
    // Another call may have refreshed meanwhile; refresh only if our token is still the current one.
    if (this.#tokens?.access === sent) await this.#refresh();
    if (!this.#tokens) return response;
    await response.body?.cancel();
    return send(this.#tokens.access);
  }

  /**
   * One refresh at a time: the daemon rotates refresh tokens and treats the reuse of a rotated
   * one as theft (it ends the whole session), so concurrent refreshes would sign the admin out.
   * A refused refresh ends the session here too.
   */
  #refresh(): Promise<void> {
    const tokens = this.#tokens;
    if (!tokens) return Promise.resolve();
    this.#refreshing ??= (async () => {
      try {
        const response = await this.#request('POST', '/auth/refresh', { body: { refresh_token: tokens.refresh } });
        if (response.ok) this.#store(await response.json());
        else if (response.status === 401) this.#setTokens(null);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #store(body: unknown): void {
    if (!Value.Check(TokenPair, body)) throw new Error('unexpected token response');
    this.#setTokens({
      access: body.access_token,
      refresh: body.refresh_token,
      expiresAt: this.#now() + body.expires_in * 1000,
    });
  }

  #setTokens(tokens: Tokens | null): void {
    const changed = (tokens === null) !== (this.#tokens === null);
    this.#tokens = tokens;
    if (!tokens) for (const id of [...this.#subscriptions.keys()]) this.forgetSender(id);
    if (changed) for (const listener of this.#sessionListeners) listener(tokens !== null);
  }

  /** A daemon answer as a bridge result: the body and `X-Total-Count`, or the daemon's problem as it is. */
  async #result(response: Response, paged: boolean): Promise<BridgeResult<unknown>> {
    if (!response.ok) return this.#failure(response);
    const text = await response.text();
    const total = response.headers.get('x-total-count');
    return {
      ok: true,
      data: text ? JSON.parse(text) : null,
      ...(paged && total !== null ? { total: Number(total) } : {}),
    };
  }

  async #failure(response: Response): Promise<{ ok: false; problem: Problem }> {
    const body: unknown = await response.json().catch(() => null);
    if (Value.Check(Problem, body)) return { ok: false, problem: body };
    return fail('internal', `The daemon answered ${response.status} without a problem document.`);
  }
}
