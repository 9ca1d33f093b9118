import { isIP } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import type { Connection, CreateConnectionRequest, FieldError } from '@gatehouse/shared';
import { ProblemError, conflict, notFound } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { ConnectionEntity, type ConnectionRow } from '../../storage/connection-entities.js';
import type { Database } from '../../storage/database.js';
import { ToolEntity } from '../../storage/permission-entities.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import type { ProjectRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { AuditLog } from '../audit/audit-log.js';
import { writeWithSecrets } from '../secret-transaction.js';

/** The tool name under which a connection is granted to agents and roles. */
export const connectionTool = (name: string) => `connection:${name}`;

/** What the broker needs of a connection on each call: read once per database generation. */
export interface BrokeredConnection {
  row: ConnectionRow;
  tool: string;
  /** The base URL without its trailing slash. */
  base: string;
  secret: string;
  allows(method: string, path: string): boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(location: string, message: string): ProblemError {
  return new ProblemError('validation_failed', `The request is not valid: ${location} ${message}.`, {
    errors: [{ location, message } satisfies FieldError],
  });
}

/** https anywhere; http only to this machine (a secret must not cross a network in the clear). */
export function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('body.base_url', 'is not a URL');
  }
  const loopback = LOOPBACK_NAMES.has(url.hostname) || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw invalid('body.base_url', 'must be https:// (http:// only for a loopback host)');
  if (url.username || url.password) throw invalid('body.base_url', 'must not carry credentials');
  if (url.search || url.hash) throw invalid('body.base_url', 'must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/** Headers the broker sets itself or that belong to one hop: a template may not name them. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'te', 'upgrade']);

/** `*` matches within a path segment, `**` across segments; the rest literally. */
export function pathMatcher(patterns: string[]): (path: string) => boolean {
  if (patterns.length === 0) return () => true;
  const sources = patterns.map((pattern) =>
    pattern
      .split(/(\*\*|\*)/)
      .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join(''),
  );
  const regex = new RegExp(`^(?:${sources.join('|')})$`);
  return (path) => regex.test(path);
}

export const toConnection = (row: ConnectionRow): Connection => ({
  id: row.id,
  project_id: row.project_id,
  name: row.name,
  tool: connectionTool(row.name),
  base_url: row.base_url,
  injection: row.injection,
  allowed_methods: row.allowed_methods,
  allowed_paths: row.allowed_paths,
  description: row.description,
  created_at: row.created_at,
  updated_at: row.updated_at,
});

/**
 * Brokered upstream credentials (SPEC §11): the secret lives in the keychain, the row only names
 * it; each connection registers the tool `connection:<name>`, which agents and roles are granted
 * as any other tool.
 */
export class ConnectionsService {
  private readonly brokered: ReadCache<BrokeredConnection | null>;

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
  ) {
    this.brokered = new ReadCache(db);
  }

  async list(project: ProjectRow): Promise<Connection[]> {
    const rows = await this.db.manager.find(ConnectionEntity, {
      where: { project_id: project.id },
      order: { name: 'ASC' },
    });
    return rows.map(toConnection);
  }

  async get(project: ProjectRow, name: string): Promise<Connection> {
    return toConnection(await this.find(project, name));
  }

  async create(project: ProjectRow, input: CreateConnectionRequest, actor: Actor): Promise<Connection> {
    const base_url = checkBaseUrl(input.base_url);
    if (input.injection.kind === 'header' && RESERVED_HEADERS.has(input.injection.name.toLowerCase()))
      throw invalid('body.injection.name', 'is a header the broker sets itself');
    const id = uuidv7();
    const now = new Date().toISOString();
    const row: ConnectionRow = {
      id,
      project_id: project.id,
      name: input.name,
      base_url,
      injection: input.injection,
      secret_account: accounts.connectionSecret(id),
      allowed_methods: input.allowed_methods ?? [],
      allowed_paths: input.allowed_paths ?? [],
      description: input.description ?? null,
      created_at: now,
      updated_at: now,
    };
    const tool = connectionTool(input.name);
    await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      if (await tx.exists(ConnectionEntity, { where: { name: input.name } }))
        throw conflict(`A connection named "${input.name}" already exists.`);
      if (await tx.exists(ToolEntity, { where: { name: tool } }))
        throw conflict(`The tool "${tool}" is already registered.`);
      await tx.insert(ConnectionEntity, row);
      await tx.insert(ToolEntity, { name: tool, description: `Brokered calls to ${base_url}`, created_at: now });
      await this.audit.append(tx, {
        event_type: 'connection.created',
        actor,
        project_id: project.id,
        target: tool,
        metadata: { base_url, injection: input.injection.kind },
      });
      // Last: a keychain failure rolls the rows back, and a failed commit undoes the secret.
      await secrets.set(row.secret_account, input.secret);
    });
    return toConnection(row);
  }

  async delete(project: ProjectRow, name: string, actor: Actor): Promise<Connection> {
    const row = await this.db.write(async (tx) => {
      const found = await tx.findOneBy(ConnectionEntity, { project_id: project.id, name });
      if (!found) throw notFound(`Connection "${name}"`);
      await tx.delete(ConnectionEntity, { id: found.id });
      // The grants name the tool; with it gone they grant nothing (effective tools are ∩ registered).
      await tx.delete(ToolEntity, { name: connectionTool(name) });
      await this.audit.append(tx, {
        event_type: 'connection.deleted',
        actor,
        project_id: project.id,
        target: connectionTool(name),
      });
      return found;
    });
    // After the commit: a keychain failure here leaves an orphan secret, never a row without one.
    await this.secrets.delete(row.secret_account).catch(() => undefined);
    return toConnection(row);
  }

  /** The connection an agent of `projectId` calls, with its secret; null when there is none. */
  forBroker(projectId: string, name: string): Promise<BrokeredConnection | null> {
    return this.brokered.get(`${projectId}/${name}`, async () => {
      const row = await this.db.manager.findOneBy(ConnectionEntity, { project_id: projectId, name });
      if (!row) return null;
      const secret = await this.secrets.get(row.secret_account);
      if (secret === null)
        throw new ProblemError(
          'credentials_unrecoverable',
          `The secret of connection "${name}" is gone from the keychain; add the connection again.`,
        );
      const methods = new Set(row.allowed_methods);
      const paths = pathMatcher(row.allowed_paths);
      return Object.freeze({
        row: frozenRow(row),
        tool: connectionTool(name),
        base: row.base_url,
        secret,
        allows: (method: string, path: string) => (methods.size === 0 || methods.has(method)) && paths(path),
      });
    });
  }

  private async find(project: ProjectRow, name: string): Promise<ConnectionRow> {
    const row = await this.db.manager.findOneBy(ConnectionEntity, { project_id: project.id, name });
    if (!row) throw notFound(`Connection "${name}"`);
    return row;
  }
}
