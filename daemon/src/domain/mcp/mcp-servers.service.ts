import type { CreateServerRequest, McpServer, UpdateServerRequest } from '@gatehouse/shared';
import type { EntityManager } from 'typeorm';
import { In } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { conflict, notFound, ProblemError } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import type { SecretWrites } from '../../secrets/secret-writes.js';
import type { Database } from '../../storage/database.js';
import type { ProjectRow } from '../../storage/entities.js';
import { McpServerEntity, type McpServerRow } from '../../storage/mcp-entities.js';
import { ToolEntity } from '../../storage/permission-entities.js';
import type { Actor } from '../actor.js';
import type { PermissionsService } from '../agents/permissions.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { writeWithSecrets } from '../secret-transaction.js';
import type { McpSupervisor } from './mcp-supervisor.js';

const invalid = (location: string, message: string) =>
  new ProblemError('validation_failed', message, { errors: [{ location, message }] });

export const toServer = (row: McpServerRow): McpServer => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  transport: row.transport,
  command: row.command,
  args: row.args,
  env: row.env,
  secret_env: row.secret_env,
  url: row.url,
  has_credential: row.has_credential,
  credential_header: row.credential_header,
  enabled: row.enabled,
  status: row.status,
  last_error: row.last_error,
  tools: row.tools,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/** The keychain accounts a server's row refers to. */
const secretAccounts = (row: Pick<McpServerRow, 'secret_accounts' | 'credential_account'>): string[] => [
  ...Object.values(row.secret_accounts),
  ...(row.credential_account ? [row.credential_account] : []),
];

/** New keychain accounts for the secrets `input` sets (see `accounts.mcpServerEnv`), by what they hold. */
function newAccounts(serverId: string, input: Pick<CreateServerRequest, 'secret_env' | 'credential'>) {
  return {
    env: input.secret_env
      ? Object.fromEntries(Object.keys(input.secret_env).map((name) => [name, accounts.mcpServerEnv(serverId, name)]))
      : null,
    credential: input.credential !== undefined ? accounts.mcpServerCredential(serverId) : null,
  };
}

/**
 * MCP servers registered in a project. Secret environment values and upstream credentials go to
 * the keychain in the same step as the row (a keychain failure leaves neither); the supervisor is
 * told after the commit, so a running server always matches a committed row.
 */
export class McpServersService {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
    private readonly supervisor: McpSupervisor,
    private readonly permissions: PermissionsService,
  ) {}

  async list(projectId: string): Promise<McpServer[]> {
    const rows = await this.db.manager.find(McpServerEntity, {
      where: { project_id: projectId },
      order: { name: 'ASC' },
    });
    return rows.map(toServer);
  }

  async find(projectId: string, name: string): Promise<McpServerRow> {
    const row = await this.db.manager.findOne(McpServerEntity, { where: { project_id: projectId, name } });
    if (!row) throw notFound(`MCP server "${name}"`);
    return row;
  }

  async create(project: ProjectRow, input: CreateServerRequest, actor: Actor): Promise<McpServer> {
    const settings = checkSettings(input.transport, input);
    const row = await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      if (await tx.exists(McpServerEntity, { where: { name: input.name } }))
        throw conflict(`An MCP server named "${input.name}" is already registered.`);
      const now = new Date().toISOString();
      const id = uuidv7();
      const fresh = newAccounts(id, input);
      const created: McpServerRow = {
        id,
        project_id: project.id,
        name: input.name,
        transport: input.transport,
        ...settings.columns,
        secret_accounts: fresh.env ?? {},
        credential_account: fresh.credential,
        status: settings.columns.enabled ? 'starting' : 'stopped',
        last_error: null,
        tools: [],
        created_at: now,
        updated_at: now,
      };
      await tx.insert(McpServerEntity, created);
      await storeSecrets(secrets, created, input);
      await this.audit.append(tx, {
        event_type: 'server.created',
        actor,
        project_id: project.id,
        target: `server:${input.name}`,
        metadata: {
          transport: input.transport,
          secret_env: created.secret_env,
          has_credential: created.has_credential,
        },
      });
      return created;
    });
    this.supervisor.start(row);
    return toServer(row);
  }

  async update(project: ProjectRow, name: string, input: UpdateServerRequest, actor: Actor): Promise<McpServer> {
    const current = await this.find(project.id, name);
    const merged = {
      command: input.command ?? current.command ?? undefined,
      args: input.args ?? current.args,
      env: input.env ?? current.env,
      url: input.url ?? current.url ?? undefined,
      credential_header: input.credential_header ?? current.credential_header ?? undefined,
      enabled: input.enabled ?? current.enabled,
    };
    const settings = checkSettings(current.transport, {
      ...merged,
      secret_env: input.secret_env,
      credential: input.credential,
    });
    // New accounts for the secrets given: the old items keep serving the committed row until then.
    const fresh = newAccounts(current.id, input);
    const updated: McpServerRow = {
      ...current,
      ...settings.columns,
      secret_env: input.secret_env ? Object.keys(input.secret_env) : current.secret_env,
      secret_accounts: fresh.env ?? current.secret_accounts,
      has_credential: input.credential !== undefined || current.has_credential,
      credential_account: fresh.credential ?? current.credential_account,
      status: merged.enabled ? 'starting' : 'stopped',
      last_error: null,
      updated_at: new Date().toISOString(),
    };
    await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      await tx.save(McpServerEntity, updated);
      await storeSecrets(secrets, updated, input);
      await this.audit.append(tx, {
        event_type: 'server.updated',
        actor,
        project_id: project.id,
        target: `server:${name}`,
        metadata: { changed: Object.keys(input) },
      });
    });
    // Items replaced or no longer named are dropped only once the row no longer refers to them.
    const stale = secretAccounts(current).filter((account) => !secretAccounts(updated).includes(account));
    await Promise.all(stale.map((account) => this.secrets.delete(account).catch(() => false)));
    this.supervisor.start(updated);
    return toServer(updated);
  }

  async delete(project: ProjectRow, name: string, actor: Actor): Promise<void> {
    const row = await this.find(project.id, name);
    await this.supervisor.stop(row.id);
    await this.db.write(async (tx) => {
      await tx.delete(McpServerEntity, { id: row.id });
      const removed = await removeToolsOf(tx, row.name);
      const agentsAffected = await this.permissions.registryChanged(tx, removed, actor);
      await this.audit.append(tx, {
        event_type: 'server.deleted',
        actor,
        project_id: project.id,
        target: `server:${name}`,
        metadata: { tools_removed: removed.length, agents_affected: agentsAffected },
      });
    });
    await Promise.all(secretAccounts(row).map((account) => this.secrets.delete(account).catch(() => false)));
  }
}

/** Removes `<server>.*` from the tool registry; returns the names removed. */
async function removeToolsOf(tx: EntityManager, serverName: string): Promise<string[]> {
  const names = (await tx.find(ToolEntity))
    .map((tool) => tool.name)
    .filter((tool) => tool.startsWith(`${serverName}.`));
  if (names.length > 0) await tx.delete(ToolEntity, { name: In(names) });
  return names;
}

/** Writes the secrets `input` sets under the accounts `row` names for them. */
async function storeSecrets(
  secrets: SecretWrites,
  row: Pick<McpServerRow, 'secret_accounts' | 'credential_account'>,
  input: Pick<CreateServerRequest, 'secret_env' | 'credential'>,
): Promise<void> {
  for (const [name, value] of Object.entries(input.secret_env ?? {}))
    await secrets.set(row.secret_accounts[name]!, value);
  if (input.credential !== undefined) await secrets.set(row.credential_account!, input.credential);
}

/** The settings a transport allows, as columns; a field of the other transport is a 400. */
function checkSettings(
  transport: McpServerRow['transport'],
  input: Omit<UpdateServerRequest, 'args' | 'env'> & { args?: string[]; env?: Record<string, string> },
) {
  if (transport === 'stdio') {
    if (!input.command) throw invalid('/body/command', 'A stdio server needs a command.');
    for (const field of ['url', 'credential', 'credential_header'] as const)
      if (input[field] !== undefined) throw invalid(`/body/${field}`, `A stdio server has no ${field}.`);
    const secretNames = Object.keys(input.secret_env ?? {});
    const clash = secretNames.find((name) => name in (input.env ?? {}));
    if (clash) throw invalid('/body/secret_env', `${clash} is in both env and secret_env.`);
  } else {
    if (!input.url) throw invalid('/body/url', 'An http server needs a url.');
    if (!/^https?:$/.test(new URL(input.url).protocol)) throw invalid('/body/url', 'The url must be http or https.');
    for (const field of ['command', 'secret_env'] as const)
      if (input[field] !== undefined) throw invalid(`/body/${field}`, `An http server has no ${field}.`);
    if ((input.args?.length ?? 0) > 0 || Object.keys(input.env ?? {}).length > 0)
      throw invalid('/body/env', 'An http server has no args or env.');
  }
  return {
    columns: {
      command: transport === 'stdio' ? input.command! : null,
      args: input.args ?? [],
      env: input.env ?? {},
      secret_env: Object.keys(input.secret_env ?? {}),
      url: transport === 'http' ? input.url! : null,
      has_credential: input.credential !== undefined,
      credential_header: input.credential_header ?? null,
      enabled: input.enabled ?? true,
    },
  };
}
