import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import type { bridgeChannels } from '@gatehouse/shared';
import {
  AuditEvent,
  ContractClient,
  isConsoleRoute,
  type BridgeResult,
  type ConsoleEvent,
  type LoginRequest,
  type SessionState,
  type SetupRequest,
  type ShellInfo,
  type TokenPair,
} from '@gatehouse/shared';
import { bridgeDispatch, routeInput, fail, type Dispatch, type Sender } from './bridge-dispatch.js';

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

/**
 * Electron main's side of the `window.gatehouse` bridge (SPEC §1, §7): the admin's session over
 * the shared contract client. It is the only holder of the access and refresh tokens — they
 * never cross into the renderer, so a compromised page cannot take the session elsewhere.
 * Renewal is the client's, one at a time: the daemon rotates refresh tokens and treats the reuse
 * of a rotated one as theft (it ends the whole session).
 */
export class BridgeHost {
  readonly #options: BridgeHostOptions;
  readonly #now: () => number;
  readonly #client: ContractClient;
  readonly #dispatch: Dispatch;
  #tokens: Tokens | null = null;
  readonly #subscriptions = new Map<number, () => void>();
  readonly #sessionListeners = new Set<(signedIn: boolean) => void>();

  constructor(options: BridgeHostOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#client = new ContractClient({
      baseUrl: options.daemonUrl,
      fetch: options.fetch ?? globalThis.fetch,
      tokens: {
        token: async () => {
          if (this.#tokens && this.#tokens.expiresAt - REFRESH_MARGIN_MS <= this.#now()) await this.#client.renew();
          return this.#tokens?.access ?? null;
        },
        renew: () => this.#refresh(),
      },
    });
    this.#dispatch = bridgeDispatch(
      {
        api: (args) => this.api(args),
        sessionState: () => this.sessionState(),
        sessionSetup: (body) => this.setup(body),
        sessionLogin: (body) => this.login(body),
        sessionLogout: () => this.logout(),
        eventsSubscribe: ({ projectId }, sender) => {
          this.forgetSender(sender.id);
          this.#subscriptions.set(sender.id, this.subscribe(projectId, sender.push));
          return { ok: true, data: null };
        },
        eventsUnsubscribe: (_arg, sender) => {
          this.forgetSender(sender.id);
          return { ok: true, data: null };
        },
        shell: () => this.shell(),
        restartDaemon: () => this.restartDaemon(),
      },
      options.isAppUrl,
    );
  }

  /** The IPC entry point: one call per `ipcMain.handle` of a declared channel. */
  handle(channel: string, arg: unknown, sender: Sender): Promise<BridgeResult<unknown>> {
    return this.#dispatch(channel, arg, sender);
  }

  /** Ends the event subscription of a window that went away. */
  forgetSender(id: number): void {
    this.#subscriptions.get(id)?.();
    this.#subscriptions.delete(id);
  }

  /** Calls a console route for the signed-in admin (main uses this too, e.g. the tray's approvals count). */
  async api({ route: name, ...request }: ApiArgs): Promise<BridgeResult<unknown>> {
    if (!isConsoleRoute(name)) return fail('bad_request', `${name} is not a console route.`);
    const checked = routeInput(name, request);
    return checked.ok ? this.#client.call(name, checked.input) : checked;
  }

  async sessionState(): Promise<BridgeResult<SessionState>> {
    if (this.#tokens) {
      const whoami = await this.#client.call('whoami', {});
      // A session token always belongs to a human: whoami answers `{principal: 'user', user, …}`.
      if (whoami.ok && whoami.data.principal === 'user')
        return { ok: true, data: { status: 'signed_in', user: whoami.data.user } };
      if (!whoami.ok && whoami.problem.status !== 401) return whoami;
    }
    const setup = await this.#client.call('setupStatus', {}, { token: null });
    if (!setup.ok) return setup;
    return { ok: true, data: { status: setup.data.needs_setup ? 'needs_setup' : 'signed_out' } };
  }

  /** First-run setup, then signs the new admin in. */
  async setup(body: SetupRequest): Promise<BridgeResult<SessionState>> {
    const created = await this.#client.call('setup', { body }, { token: null });
    if (!created.ok) return created;
    return this.login({ username: body.username, password: body.password });
  }

  async login(body: LoginRequest): Promise<BridgeResult<SessionState>> {
    const tokens = await this.#client.call('login', { body }, { token: null });
    if (!tokens.ok) return tokens;
    this.#store(tokens.data);
    return this.sessionState();
  }

  /** Ends the session at the daemon (best effort) and forgets the tokens either way. */
  async logout(): Promise<BridgeResult<SessionState>> {
    const tokens = this.#tokens;
    this.#setTokens(null);
    if (tokens)
      await this.#client.call('logout', { body: { refresh_token: tokens.refresh } }, { token: tokens.access });
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
   * Follows `GET /v1/events` of a project for as long as the session lasts (the client reconnects
   * after a drop from the last event id, and renews the token after a 401). Returns the function
   * that ends it.
   */
  subscribe(projectId: string | null, listener: (event: ConsoleEvent) => void): () => void {
    const abort = new AbortController();
    void this.#client
      .follow({ projectId: projectId ?? undefined, signal: abort.signal }, (message) => {
        const event: unknown = JSON.parse(message.data);
        if (Value.Check(AuditEvent, event)) listener({ category: message.event, event });
      })
      .catch((error: unknown) => console.error('gatehouse bridge: the event stream failed:', error));
    return () => abort.abort();
  }

  /** A refused refresh ends the session here too. */
  async #refresh(): Promise<void> {
    const tokens = this.#tokens;
    if (!tokens) return;
    const renewed = await this.#client.call('refresh', { body: { refresh_token: tokens.refresh } }, { token: null });
    if (renewed.ok) this.#store(renewed.data);
    else if (renewed.problem.status === 401) this.#setTokens(null);
  }

  #store(tokens: TokenPair): void {
    this.#setTokens({
      access: tokens.access_token,
      refresh: tokens.refresh_token,
      expiresAt: this.#now() + tokens.expires_in * 1000,
    });
  }

  #setTokens(tokens: Tokens | null): void {
    const changed = (tokens === null) !== (this.#tokens === null);
    this.#tokens = tokens;
    if (!tokens) for (const id of [...this.#subscriptions.keys()]) this.forgetSender(id);
    if (changed) for (const listener of this.#sessionListeners) listener(tokens !== null);
  }
}
