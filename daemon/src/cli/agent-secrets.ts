import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentIdByName, daemonDatabase, openDatabaseSecretsReadOnly } from '../database-secrets.js';
import { DB_FILE } from '../home.js';
import { EncryptedFileSecretStore } from '../secrets/encrypted-file-store.js';
import { KeytarSecretStore } from '../secrets/keytar-store.js';
import { SECRETS_FILE } from '../secrets/open-secret-store.js';
import { accounts, type SecretStore } from '../secrets/secret-store.js';
import { CliError, UsageError } from './errors.js';

/*
 * An agent's secrets, read where the daemon wrote them (the OS keychain, the encrypted file of
 * `--secret-store=file`, or the database of `--secret-store=database`), with no daemon running.
 * Agents are named `<project slug>/<name>`,
 * as in the keychain's `agent:<project>/<agent>` entries.
 */

export interface AgentRef {
  project: string;
  agent: string;
}

export function parseAgentRef(text: string): AgentRef {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1)
    throw new UsageError(
      `name the agent as <project>/<agent> (e.g. default/${text.replace(/\//g, '') || 'researcher'}).`,
    );
  return { project: text.slice(0, slash), agent: text.slice(slash + 1) };
}

export const formatRef = (ref: AgentRef) => `${ref.project}/${ref.agent}`;

/** The daemon's database, or a clear line when there is none in `home`. */
function database(home: string) {
  const target = daemonDatabase(home);
  if (!target) throw new CliError(`there is no Gatehouse database in ${join(home, DB_FILE)} (see --home).`);
  return target;
}

/** The store the daemon keeps agents' secrets in: `GATEHOUSE_SECRET_STORE`, as for the daemon. */
export async function openAgentSecrets(home: string, keychainService: string): Promise<SecretStore> {
  const kind = process.env.GATEHOUSE_SECRET_STORE ?? 'keychain';
  if (kind === 'database') return openDatabaseSecretsReadOnly(database(home));
  if (kind !== 'file') return new KeytarSecretStore(keychainService);
  const path = join(home, SECRETS_FILE);
  // Opening a missing file would create an empty one: only read what the daemon wrote.
  if (!existsSync(path)) throw new CliError(`there is no secrets file at ${path}.`);
  if (!process.env.GATEHOUSE_PASSPHRASE) throw new CliError(`reading ${path} needs GATEHOUSE_PASSPHRASE.`);
  return EncryptedFileSecretStore.open(path, process.env.GATEHOUSE_PASSPHRASE);
}

/** The agent's id, from the daemon's database opened read-only; null when there is no such agent. */
export function findAgentId(home: string, ref: AgentRef): Promise<string | null> {
  return agentIdByName(database(home), ref.project, ref.agent).catch((error: Error) => {
    throw new CliError(`cannot read the Gatehouse database: ${error.message}`);
  });
}

/** The agent's newest active API key. */
export async function readAgentKey(secrets: SecretStore, home: string, ref: AgentRef): Promise<string> {
  const key = await secrets.get(accounts.agentAlias(ref.project, ref.agent));
  if (key) return key;
  // Say why: no such agent, or an agent whose keys are all revoked or kept out of the keychain.
  if ((await findAgentId(home, ref)) === null) throw new CliError(`there is no agent ${formatRef(ref)}.`);
  throw new CliError(
    `agent ${formatRef(ref)} has no active key in the ${secrets.description}; issue one with \`gatehouse keys create ${ref.agent} --project ${ref.project}\`.`,
  );
}

/** The agent's Ed25519 private key (PKCS8 PEM), found by the agent's id. */
export async function readAgentIdentity(
  secrets: SecretStore,
  home: string,
  ref: AgentRef,
): Promise<{ agentId: string; privateKey: string }> {
  const agentId = await findAgentId(home, ref);
  if (agentId === null) throw new CliError(`there is no agent ${formatRef(ref)}.`);
  const privateKey = await secrets.get(accounts.agentIdentity(agentId));
  if (!privateKey) throw new CliError(`the private key of ${formatRef(ref)} is not in the ${secrets.description}.`);
  return { agentId, privateKey };
}
