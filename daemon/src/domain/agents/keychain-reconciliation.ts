import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { AgentEntity, AgentKeyEntity, type AgentKeyRow } from '../../storage/agent-entities.js';
import type { Database } from '../../storage/database.js';
import { ProjectEntity } from '../../storage/entities.js';
import { AgentUserEntity } from '../../storage/workflow-entities.js';
import { systemActor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { hashesMatch, sha256Hex } from '../credentials.js';
import { isKeyActive } from './agent-keys.service.js';

/** What one reconciliation changed in the keychain, by kind of item. */
export interface KeychainReconciled {
  orphanKeys: number;
  orphanIdentities: number;
  aliasesRemoved: number;
  aliasesRepaired: number;
}

const KEY_ITEM = 'agent-key:';
const IDENTITY_ITEM = 'agent-identity:';
const ALIAS_ITEM = 'agent:';

/**
 * Brings the agents' keychain items back in line with the database, at every start.
 *
 * Keys and agents are written in one transaction whose keychain writes land before it commits,
 * in this order: `agent-identity:<agent>`, `agent-key:<key>`, then the alias `agent:<project>/<agent>`.
 * A crash (`kill -9`) between those writes and the commit can therefore leave only items this
 * recognises: an identity with no agent row, a key item with no live key row, or an alias that no
 * longer holds the agent's newest live key, which is re-made from that key's own item (or removed).
 * The same walk removes what a keychain outage kept a delete or a revocation from removing.
 */
export async function reconcileAgentKeychain(
  db: Database,
  secrets: SecretStore,
  audit: AuditLog,
): Promise<KeychainReconciled> {
  const items = await secrets.list();
  const [agents, projects, keys, agentUsers] = await Promise.all([
    db.manager.find(AgentEntity, { select: { id: true, project_id: true, name: true, status: true } }),
    db.manager.find(ProjectEntity, { select: { id: true, slug: true } }),
    db.manager.find(AgentKeyEntity, { order: { created_at: 'DESC' } }),
    db.manager.find(AgentUserEntity, { select: { key_id: true } }),
  ]);
  const agentsById = new Map(agents.map((agent) => [agent.id, agent]));
  const slugs = new Map(projects.map((project) => [project.id, project.slug]));
  const keysById = new Map(keys.map((key) => [key.id, key]));
  const agentUserKeys = new Set(agentUsers.map((link) => link.key_id));
  const now = new Date().toISOString();
  const result: KeychainReconciled = { orphanKeys: 0, orphanIdentities: 0, aliasesRemoved: 0, aliasesRepaired: 0 };

  // A key item stays only while its key can still be used: a row, live, of an agent not revoked.
  const liveKeyItems = new Map<string, string>();
  for (const [item, secret] of items) {
    if (item.startsWith(KEY_ITEM)) {
      const key = keysById.get(item.slice(KEY_ITEM.length));
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
    } else if (item.startsWith(IDENTITY_ITEM) && !agentsById.has(item.slice(IDENTITY_ITEM.length))) {
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
    if (item.startsWith(ALIAS_ITEM) && !wanted.has(item)) {
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

/** The agent's alias, or none for a name stored before names were checked (it never had a safe one). */
function aliasOf(projectSlug: string, agentName: string): string | null {
  try {
    return accounts.agentAlias(projectSlug, agentName);
  } catch {
    return null;
  }
}
