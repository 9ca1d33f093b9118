import type { Command } from 'commander';
import { homeFrom, isProcessAlive, readDiscovery } from '../home.js';
import { KeytarSecretStore } from '../secrets/keytar-store.js';
import { ApiClient } from './api-client.js';
import { UnreachableError } from './errors.js';
import { CliSession } from './session.js';

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  url?: string;
  home?: string;
  project?: string;
}

/** Where a command's daemon, data and keychain are, and how it signs in. */
export class CliContext {
  readonly home: string;
  readonly keychainService = process.env.GATEHOUSE_KEYCHAIN_SERVICE || 'gatehouse';
  readonly project: string | undefined;
  private readonly givenUrl: string | undefined;

  constructor(options: GlobalOptions) {
    this.home = options.home ?? homeFrom();
    this.project = options.project ?? process.env.GATEHOUSE_PROJECT;
    this.givenUrl = options.url ?? process.env.GATEHOUSE_URL;
  }

  /** `--url`, else `GATEHOUSE_URL`, else the live daemon of the data dir (`daemon.json`, read each time). */
  daemonUrl(): string {
    if (this.givenUrl) return this.givenUrl.replace(/\/+$/, '');
    const discovery = readDiscovery(this.home);
    if (!discovery || !isProcessAlive(discovery.pid))
      throw new UnreachableError(
        `no Gatehouse daemon is running for ${this.home}: start one with \`gatehouse daemon\`.`,
      );
    return discovery.url;
  }

  session(): CliSession {
    return new CliSession(new KeytarSecretStore(this.keychainService), this.daemonUrl(), this.home);
  }

  /**
   * The API as the signed-in human: a personal API token in `GATEHOUSE_TOKEN` (for scripts),
   * else the session of `gatehouse login`.
   */
  api(): ApiClient {
    const token = process.env.GATEHOUSE_TOKEN;
    const session = token ? null : this.session();
    return new ApiClient(this.daemonUrl(), async () => token ?? session!.accessToken(), this.project);
  }
}

export const contextOf = (command: Command) => new CliContext(command.optsWithGlobals<GlobalOptions>());
