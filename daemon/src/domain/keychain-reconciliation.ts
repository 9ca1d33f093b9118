import { In } from 'typeorm';
import { accountPrefixes, accounts, type SecretStore } from '../secrets/secret-store.js';
import { AgentEntity, AgentKeyEntity, type AgentKeyRow } from '../storage/agent-entities.js';
import { ConnectionEntity } from '../storage/connection-entities.js';
import type { Database, ReadManager } from '../storage/database.js';
import { findByIds } from '../storage/find-by-ids.js';
import { ProjectEntity, UserEntity } from '../storage/entities.js';
import { McpServerEntity } from '../storage/mcp-entities.js';
import { AgentUserEntity } from '../storage/workflow-entities.js';
import { systemActor } from './actor.js';
import { isKeyActive } from './agents/agent-keys.service.js';
import type { AuditLog } from './audit/audit-log.js';
import { hashesMatch, sha256Hex } from './credentials.js';

/** What one reconciliation changed in the keychain, by kind of item. */
export interface KeychainReconciled {
  orphanKeys: number;
  orphanIdentities: number;
  aliasesRemoved: number;
  aliasesRepaired: number;
  orphanConnectionSecrets: number;
  orphanConnectionClientSecrets: number;
  orphanServerEnv: number;
  orphanServerCredentials: number;
  orphanTotpSecrets: number;
}

/**
 * Items a row owns by naming them: each kind, with the accounts the database refers to now. An
 * item under the prefix that no row names is an orphan.
 */
const ownedKinds: Array<{
  prefix: string;
  counter: keyof KeychainReconciled;
  named: (db: ReadManager) => Promise<string[]>;
}> = [
  {
    // An OAuth connection holds a refresh token only while connected: one left by a revocation
    // the keychain did not finish would otherwise keep the broker calling for a disconnected account.
    prefix: accountPrefixes.connectionSecret,
    counter: 'orphanConnectionSecrets',
    named: async (db) =>
      (await db.find(ConnectionEntity, { select: { secret_account: true, oauth: true, connected_at: true } }))
        .filter((row) => !row.oauth || row.connected_at !== null)
        .map((row) => row.secret_account),
  },
  {
    prefix: accountPrefixes.connectionClientSecret,
    counter: 'orphanConnectionClientSecrets',
    named: async (db) =>
      (await db.find(ConnectionEntity, { select: { oauth: true } })).flatMap((row) =>
        row.oauth?.client_secret_account ? [row.oauth.client_secret_account] : [],
      ),
  },
  {
    prefix: accountPrefixes.mcpServerEnv,
    counter: 'orphanServerEnv',
    named: async (db) =>
      (await db.find(McpServerEntity, { select: { id: true, secret_accounts: true } })).flatMap((row) =>
        Object.values(row.secret_accounts),
      ),
  },
  {
    prefix: accountPrefixes.mcpServerCredential,
    counter: 'orphanServerCredentials',
    named: async (db) =>
      (await db.find(McpServerEntity, { select: { id: true, credential_account: true } })).flatMap((row) =>
        row.credential_account ? [row.credential_account] : [],
      ),
  },
  {
    // Any user's: a user with MFA off may hold one from an enrolment under way (`/auth/mfa/setup`).
    prefix: accountPrefixes.totp,
    counter: 'orphanTotpSecrets',
    named: async (db) => (await db.find(UserEntity, { select: { id: true } })).map((row) => accounts.totp(row.id)),
  },
];

/**
 * Brings the keychain back in line with the database, at every start, so that a crash
 * (`kill -9`) or a keychain outage half-way through a write leaves nothing half-written.
 *
 * Every write puts its keychain items in place before its rows commit, and every delete removes
 * them after its rows are gone, so what a crash can leave is only an item no row names. Those are
 * removed, by kind:
 * - agents: keys and agents are written in one transaction whose keychain writes land before it
 *   commits, in the order `agent-identity:<agent>`, `agent-key:<key>`, then the alias
 *   `agent:<project>/<agent>`. A key item stays only while its key row is live and holds its
 *   secret, an identity only with its agent; an alias that no longer holds its agent's newest
 *   live key is re-made from that key's own item (or removed);
 * - connections, MCP servers and TOTP secrets: an item stays while a row names it (`ownedKinds`).
 * Items under no prefix the daemon writes (the CLI's sessions, the signing keys) are not touched.
 * The items are listed before the rows are read: an item written since the listing is not in it,
 * so a write committing meanwhile (a replica on the same database store) never loses its item.
 */
export async function reconcileKeychain(
  db: Database,
  secrets: SecretStore,
  audit: AuditLog,
): Promise<KeychainReconciled> {
  const items = await secrets.list();
  // Only the rows the items name are read (by primary key): every decision below is about an
  // item, and a 10,000-agent database would otherwise be read whole at each start.
  const keyIds = idsUnder(items, accountPrefixes.agentKey);
  const [keys, named] = await Promise.all([
    findByIds(keyIds, (ids) => db.manager.find(AgentKeyEntity, { where: { id: In(ids) } })),
    Promise.all(ownedKinds.map(async (kind) => new Set(await kind.named(db.manager)))),
  ]);
  // Newest first: the first live key of an agent is the one its alias holds.
  keys.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  const agentIds = [
    ...new Set([...keys.map((key) => key.agent_id), ...idsUnder(items, accountPrefixes.agentIdentity)]),
  ];
  const [agents, agentUsers] = await Promise.all([
    findByIds(agentIds, (ids) =>
      db.manager.find(AgentEntity, {
        select: { id: true, project_id: true, name: true, status: true },
        where: { id: In(ids) },
      }),
    ),
    findByIds(
      keys.map((key) => key.id),
      (ids) => db.manager.find(AgentUserEntity, { select: { key_id: true }, where: { key_id: In(ids) } }),
    ),
  ]);
  const projects = await findByIds([...new Set(agents.map((agent) => agent.project_id))], (ids) =>
    db.manager.find(ProjectEntity, { select: { id: true, slug: true }, where: { id: In(ids) } }),
  );
  const result: KeychainReconciled = {
    orphanKeys: 0,
    orphanIdentities: 0,
    aliasesRemoved: 0,
    aliasesRepaired: 0,
    orphanConnectionSecrets: 0,
    orphanConnectionClientSecrets: 0,
    orphanServerEnv: 0,
    orphanServerCredentials: 0,
    orphanTotpSecrets: 0,
  };

  for (const item of items.keys()) {
    const index = ownedKinds.findIndex((kind) => item.startsWith(kind.prefix));
    if (index === -1 || named[index]!.has(item)) continue;
    await secrets.delete(item);
    result[ownedKinds[index]!.counter]++;
  }

  const agentsById = new Map(agents.map((agent) => [agent.id, agent]));
  const slugs = new Map(projects.map((project) => [project.id, project.slug]));
  const keysById = new Map(keys.map((key) => [key.id, key]));
  const agentUserKeys = new Set(agentUsers.map((link) => link.key_id));
  const now = new Date().toISOString();

  // A key item stays only while its key can still be used: a row, live, of an agent not revoked.
  const liveKeyItems = new Map<string, string>();
  for (const [item, secret] of items) {
    if (item.startsWith(accountPrefixes.agentKey)) {
      const key = keysById.get(item.slice(accountPrefixes.agentKey.length));
      const agent = key && agentsById.get(key.agent_id);
      if (
        key &&
        agent &&
        agent.status !== 'revoked' &&
        isKeyActive(key, now) &&
        hashesMatch(key.secret_hash, sha256Hex(secret))
      ) {
        liveKeyItems.set(key.id, secret);
      } else {
        await secrets.delete(item);
        result.orphanKeys++;
      }
    } else if (
      item.startsWith(accountPrefixes.agentIdentity) &&
      !agentsById.has(item.slice(accountPrefixes.agentIdentity.length))
    ) {
      await secrets.delete(item);
      result.orphanIdentities++;
    }
  }

  // Each agent not revoked whose own keys have live items gets its newest one as its alias.
  const wanted = new Map<string, AgentKeyRow>();
  for (const key of keys) {
    const agent = agentsById.get(key.agent_id)!;
    if (!liveKeyItems.has(key.id) || agentUserKeys.has(key.id)) continue;
    const alias = aliasOf(slugs.get(agent.project_id)!, agent.name);
    if (alias && !wanted.has(alias)) wanted.set(alias, key);
  }
  for (const item of items.keys()) {
    if (item.startsWith(accountPrefixes.agentAlias) && !wanted.has(item)) {
      await secrets.delete(item);
      result.aliasesRemoved++;
    }
  }
  for (const [alias, key] of wanted) {
    const current = items.get(alias);
    if (current !== undefined && hashesMatch(key.secret_hash, sha256Hex(current))) continue;
    await secrets.set(alias, liveKeyItems.get(key.id)!);
    result.aliasesRepaired++;
  }

  if (Object.values(result).some((count) => count > 0)) {
    await db.write((tx) =>
      audit.append(tx, {
        event_type: 'keychain.reconciled',
        actor: systemActor,
        target: 'keychain',
        metadata: { ...result },
      }),
    );
  }
  return result;
}

/** The ids in the accounts under `prefix`. */
function idsUnder(items: Map<string, string>, prefix: string): string[] {
  return [...items.keys()].filter((item) => item.startsWith(prefix)).map((item) => item.slice(prefix.length));
}

/** The agent's alias, or none for a name stored before names were checked (it never had a safe one). */
function aliasOf(projectSlug: string, agentName: string): string | null {
  try {
    return accounts.agentAlias(projectSlug, agentName);
  } catch {
    return null;
  }
}
