import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TokenPair } from '@gatehouse/shared';
import type { SecretStore } from '../secrets/secret-store.js';
import { ApiClient } from './api-client.js';
import { ApiError, CliError } from './errors.js';

/** What `gatehouse login` keeps, as one keychain entry per daemon URL. */
interface StoredSession {
  refresh_token: string;
  access_token: string;
  /** Epoch milliseconds. */
  access_expires_at: number;
}

/** An access token this close to its expiry is refreshed first, so it cannot lapse mid-command. */
const EXPIRY_MARGIN_MS = 60_000;
/** A refresh takes milliseconds: a lock file older than this was left by a process that died. */
const STALE_LOCK_MS = 10_000;

/** No usable session: never signed in, signed out, or ended by the daemon. */
export class NotSignedInError extends CliError {}

export const sessionAccount = (url: string) => `cli-session:${url}`;

/**
 * The human session of `gatehouse login`, kept in the OS keychain (never in a file). Commands
 * reuse its access token while it is fresh and rotate the refresh token when it is not. The
 * daemon treats a reused refresh token as stolen and ends the session, so rotation happens
 * under a lock file in the data dir: concurrent commands never present the same token twice.
 */
export class CliSession {
  constructor(
    private readonly keychain: SecretStore,
    private readonly url: string,
    private readonly home: string,
  ) {}

  async save(tokens: TokenPair): Promise<void> {
    const stored: StoredSession = {
      refresh_token: tokens.refresh_token,
      access_token: tokens.access_token,
      access_expires_at: Date.now() + tokens.expires_in * 1000,
    };
    await this.keychain.set(sessionAccount(this.url), JSON.stringify(stored));
  }

  async forget(): Promise<void> {
    await this.keychain.delete(sessionAccount(this.url));
  }

  /**
   * Ends the stored session on the daemon and forgets it here; false when there was none.
   * It is forgotten even when the daemon cannot be told (then the error says so).
   */
  async end(): Promise<boolean> {
    if (!(await this.read())) return false;
    try {
      const token = await this.accessToken();
      await new ApiClient(this.url, async () => token).call('logout', { body: {} });
    } catch (error) {
      if (error instanceof NotSignedInError) return true; // the daemon had already ended it
      await this.forget();
      throw new CliError(`signed out here, but the daemon could not end the session: ${(error as Error).message}`);
    }
    await this.forget();
    return true;
  }

  /** A fresh access token; refreshes the session when needed. */
  async accessToken(): Promise<string> {
    const stored = await this.read();
    if (!stored) throw new NotSignedInError('not signed in: run `gatehouse login` first.');
    if (fresh(stored)) return stored.access_token;
    return this.withLock(async () => {
      // Another command may have rotated the session while this one waited for the lock.
      const latest = await this.read();
      if (!latest) throw new NotSignedInError('not signed in: run `gatehouse login` first.');
      if (fresh(latest)) return latest.access_token;
      let tokens: TokenPair;
      try {
        tokens = (await new ApiClient(this.url).call('refresh', { body: { refresh_token: latest.refresh_token } }))
          .data;
      } catch (error) {
        // Only the daemon's "no" ends the stored session; an unreachable daemon leaves it be.
        if (!(error instanceof ApiError && error.status === 401)) throw error;
        await this.forget();
        throw new NotSignedInError(`your session has ended (${error.message}); run \`gatehouse login\` again.`);
      }
      await this.save(tokens);
      return tokens.access_token;
    });
  }

  private async read(): Promise<StoredSession | null> {
    const text = await this.keychain.get(sessionAccount(this.url));
    return text ? (JSON.parse(text) as StoredSession) : null;
  }

  private async withLock<T>(work: () => Promise<T>): Promise<T> {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    const lock = join(this.home, 'cli-session.lock');
    const deadline = Date.now() + 2 * STALE_LOCK_MS;
    for (;;) {
      try {
        closeSync(openSync(lock, 'wx', 0o600));
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (Date.now() - lockTime(lock) > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new CliError(`the session lock ${lock} stays taken; try again.`);
      else await sleep(25);
    }
    try {
      return await work();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}

const fresh = (stored: StoredSession) => stored.access_expires_at - EXPIRY_MARGIN_MS > Date.now();

/** The lock's modification time; now when it vanished meanwhile (the next attempt will tell). */
function lockTime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now();
  }
}
