import { KeytarSecretStore } from '../secrets/keytar-store.js';
import type { SecretStore } from '../secrets/secret-store.js';

/**
 * The real keychain, and a way to stop the daemon as a `kill -9` would right after a keychain
 * write: that write lands, then nothing more does (the transaction never commits, nothing is undone).
 */
export class CrashingStore implements SecretStore {
  private readonly keychain: KeytarSecretStore;
  readonly backend = 'keychain' as const;
  readonly description = 'OS keychain, stopped at will';
  private crashing = false;
  private dead = false;
  constructor(service: string) {
    this.keychain = new KeytarSecretStore(service);
  }
  crashAfterNextWrite(): void {
    this.crashing = true;
  }
  /** A restart: the next daemon finds the keychain as the crash left it. */
  revive(): void {
    this.crashing = this.dead = false;
  }
  private alive(): void {
    if (this.dead) throw new Error('simulated crash: the daemon is gone');
  }
  async set(account: string, secret: string) {
    this.alive();
    await this.keychain.set(account, secret);
    this.dead = this.crashing;
    this.alive();
  }
  async get(account: string) {
    this.alive();
    return this.keychain.get(account);
  }
  async delete(account: string) {
    this.alive();
    return this.keychain.delete(account);
  }
  async list() {
    this.alive();
    return this.keychain.list();
  }
  health() {
    return this.keychain.health();
  }
}
