import { join } from 'node:path';
import type { DaemonConfig } from '../config.js';
import { StartupError } from '../errors.js';
import { DatabaseSecretStore, type SealedSecretTable } from './database-store.js';
import { EncryptedFileSecretStore } from './encrypted-file-store.js';
import { KeytarSecretStore } from './keytar-store.js';
import type { SecretStore } from './secret-store.js';

export const SECRETS_FILE = 'secrets.enc';

/**
 * Opens the configured store, or explains how to get one when none is reachable. `sealedSecrets`
 * is the database's table, for `--secret-store database`.
 */
export async function openSecretStore(config: DaemonConfig, sealedSecrets: SealedSecretTable): Promise<SecretStore> {
  if (config.secretStore === 'database') {
    return DatabaseSecretStore.open(sealedSecrets, config.kek!, config.previousKek);
  }
  if (config.secretStore === 'file') {
    return EncryptedFileSecretStore.open(join(config.home, SECRETS_FILE), config.passphrase ?? '');
  }
  const store = new KeytarSecretStore(config.keychainService);
  const health = await store.health();
  // Locked is not missing: a locked keychain reads as empty, and starting on it would replace the signing key.
  if (health.state === 'locked') {
    throw new StartupError(
      'The OS keychain is locked. Unlock your login keyring (signing in to the desktop session does) and start ' +
        'again, or run with --secret-store=file and GATEHOUSE_PASSPHRASE set.',
    );
  }
  if (health.state === 'unavailable') {
    throw new StartupError(
      `No OS keychain is reachable (${health.reason}). ` +
        'Unlock or start a Secret Service (e.g. scripts/with-keyring.sh, or gnome-keyring in your session), ' +
        'or run with --secret-store=file and GATEHOUSE_PASSPHRASE set.',
    );
  }
  return store;
}
