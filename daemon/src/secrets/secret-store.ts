import { randomUUID } from 'node:crypto';
import { isSafeName, type SecretBackend } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';

/**
 * Where every plaintext secret lives. Accounts are named by what they hold
 * (see `accounts`); the database only ever stores references to them.
 */
export interface SecretStore {
  readonly backend: SecretBackend;
  /** For `/v1/status` and the start-up line, e.g. "OS keychain (Secret Service), service gatehouse". */
  readonly description: string;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** Resolves to whether an entry was there. */
  delete(account: string): Promise<boolean>;
  /** Every item the store holds for this service, account → secret (what start-up reconciliation walks). */
  list(): Promise<Map<string, string>>;
  /** Whether the store takes a write now: what `/v1/status` shows and start-up checks. */
  health(): Promise<KeychainHealth>;
}

/** A store that cannot be used: locked (the user can unlock it) or not reachable at all. */
export type KeychainProblem = 'locked' | 'unavailable';

export type KeychainHealth = { state: 'ok' } | { state: KeychainProblem; reason: string };

/** What the user can do about each problem: the detail of a 503 and of `/v1/status`. */
export const keychainAdvice: Record<KeychainProblem, string> = {
  locked:
    'The OS keychain is locked. Unlock your login keyring (signing in to the desktop session does) and try again.',
  unavailable:
    'The OS keychain cannot be reached. Make sure a Secret Service (gnome-keyring or KWallet) runs in your session, ' +
    'or run gatehoused with --secret-store=file, and try again.',
};

/**
 * The prefix of each kind of account the daemon writes for a row (a user, key, agent, connection
 * or server): start-up reconciliation sorts the store's items by them. No prefix is the start of
 * another, and items under none of them (the CLI's `cli-session:`, singletons) are not the daemon's rows'.
 */
export const accountPrefixes = {
  totp: 'totp:',
  agentKey: 'agent-key:',
  agentAlias: 'agent:',
  agentIdentity: 'agent-identity:',
  connectionSecret: 'connection:',
  connectionClientSecret: 'connection-client:',
  mcpServerEnv: 'mcp-server-env:',
  mcpServerCredential: 'mcp-server-credential:',
} as const;

/** Keychain account names (SPEC §3). */
export const accounts = {
  signingKey: 'daemon-signing-key',
  /** The OAuth authorization server's signing key and cookie key (domain/oauth/oauth-keys.ts). */
  oauthKeys: 'oauth-keys',
  totp: (userId: string) => `${accountPrefixes.totp}${userId}`,
  agentKey: (keyId: string) => `${accountPrefixes.agentKey}${keyId}`,
  /**
   * One account per (project, agent), never shared: slugs hold no `/` and agent names no `/` and
   * none of the characters names may not hold (a NUL would end the account name in the
   * keychain's C API), so the account splits back into exactly the two names it was made from.
   */
  agentAlias: (projectSlug: string, agentName: string) => {
    if (projectSlug.includes('/') || agentName.includes('/') || !isSafeName(projectSlug + agentName))
      throw new Error('A keychain alias was asked for a name the contract refuses.');
    return `${accountPrefixes.agentAlias}${projectSlug}/${agentName}`;
  },
  agentIdentity: (agentId: string) => `${accountPrefixes.agentIdentity}${agentId}`,
  connectionSecret: (connectionId: string) => `${accountPrefixes.connectionSecret}${connectionId}`,
  connectionClientSecret: (connectionId: string) => `${accountPrefixes.connectionClientSecret}${connectionId}`,
  /*
   * A secret that a later write replaces gets a new account each time it is written, named in its
   * row: the new item is written, the row committed naming it, and only then the old item deleted.
   * A crash in between leaves the row with its old, matching secret, and the new item is one that
   * no row names (start-up reconciliation removes it); an item overwritten in place would leave the
   * row naming a secret it was never committed with.
   */
  connectionRefreshToken: (connectionId: string) =>
    `${accountPrefixes.connectionSecret}${connectionId}:${randomUUID()}`,
  mcpServerEnv: (serverId: string, name: string) =>
    `${accountPrefixes.mcpServerEnv}${serverId}:${randomUUID()}:${name}`,
  mcpServerCredential: (serverId: string) => `${accountPrefixes.mcpServerCredential}${serverId}:${randomUUID()}`,
} as const;

/**
 * The secret store could not be reached or refused the operation: nothing was stored. The detail
 * says what the user can do (the keychain's advice, unless the store has its own); the store's own
 * words (D-Bus errors) stay in `reason`, for the log.
 */
export class SecretStoreUnavailableError extends ProblemError {
  constructor(
    readonly problem: KeychainProblem,
    readonly reason: string,
    detail: string = keychainAdvice[problem],
  ) {
    super('keychain_unavailable', detail);
    this.name = 'SecretStoreUnavailableError';
  }
}

/** An in-memory store for unit tests of other layers. Never used to prove keychain behaviour. */
export class MemorySecretStore implements SecretStore {
  readonly backend = 'memory' as const;
  readonly description = 'in-memory (tests only)';
  private readonly entries = new Map<string, string>();
  /** When set, every operation fails as an unreachable keychain would. */
  failing = false;

  private check(): void {
    if (this.failing) throw new SecretStoreUnavailableError('unavailable', 'simulated outage');
  }
  async get(account: string) {
    this.check();
    return this.entries.get(account) ?? null;
  }
  async set(account: string, secret: string) {
    this.check();
    this.entries.set(account, secret);
  }
  async delete(account: string) {
    this.check();
    return this.entries.delete(account);
  }
  async list() {
    this.check();
    return new Map(this.entries);
  }
  async health(): Promise<KeychainHealth> {
    return this.failing ? { state: 'unavailable', reason: 'simulated outage' } : { state: 'ok' };
  }
}
