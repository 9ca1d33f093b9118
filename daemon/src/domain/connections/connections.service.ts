import { isIP } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import type { Connection, CreateConnectionRequest, FieldError, OAuthStart } from '@gatehouse/shared';
import { ProblemError, conflict, notFound } from '../../errors.js';
import { accounts, type SecretStore } from '../../secrets/secret-store.js';
import { ConnectionEntity, type ConnectionRow } from '../../storage/connection-entities.js';
import type { Database } from '../../storage/database.js';
import { ToolEntity } from '../../storage/permission-entities.js';
import { frozenRow, ReadCache } from '../../storage/read-cache.js';
import type { ProjectRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { PermissionsService } from '../agents/permissions.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import { writeWithSecrets } from '../secret-transaction.js';
import {
  PendingAuthorizations,
  REFRESH_MARGIN_MS,
  requestTokens,
  revokeToken,
  type TokenAnswer,
} from './oauth-tokens.js';

/** The tool name under which a connection is granted to agents and roles. */
export const connectionTool = (name: string) => `connection:${name}`;

/** What the broker needs of a connection on each call: read once per database generation. */
export interface BrokeredConnection {
  row: ConnectionRow;
  tool: string;
  /** The base URL without its trailing slash. */
  base: string;
  /** The base URL's origin and its path (without a trailing slash), as the broker's client takes them. */
  origin: string;
  basePath: string;
  /** The fixed secret; null for an OAuth connection, whose access token `accessToken` gives. */
  secret: string | null;
  allows(method: string, path: string): boolean;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

function invalid(location: string, message: string): ProblemError {
  return new ProblemError('validation_failed', `The request is not valid: ${location} ${message}.`, {
    errors: [{ location, message } satisfies FieldError],
  });
}

/** https anywhere; http only to this machine (a secret must not cross a network in the clear). */
export function checkBaseUrl(
  value: string,
  location = 'body.base_url',
  query: 'allowed' | 'refused' = 'refused',
): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(location, 'is not a URL');
  }
  const loopback = LOOPBACK_NAMES.has(url.hostname) || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw invalid(location, 'must be https:// (http:// only for a loopback host)');
  if (url.username || url.password) throw invalid(location, 'must not carry credentials');
  if (url.hash || (query === 'refused' && url.search)) throw invalid(location, 'must not have a query or fragment');
  return query === 'allowed' ? url.href : url.href.replace(/\/+$/, '');
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

/** `**`, `*` and each literal character. */
const patternParts = (pattern: string): string[] =>
  pattern.split(/(\*\*|\*)/).flatMap((part) => (part === '**' || part === '*' ? [part] : [...part]));

/**
 * Whether every path `pattern` matches, `within` matches too: how a grant is kept from widening
 * its connection. Each part of `pattern` must be covered by a part of `within` that matches at
 * least as much (`**` covers anything, `*` covers characters and `*` but not `/` or `**`), so a
 * yes is always right; a few equal languages written differently get a no, never a wrong yes.
 */
export function patternWithin(pattern: string, within: string): boolean {
  const inner = patternParts(pattern);
  const outer = patternParts(within);
  const seen = new Map<number, boolean>();
  const covers = (i: number, j: number): boolean => {
    const key = i * (outer.length + 1) + j;
    const known = seen.get(key);
    if (known !== undefined) return known;
    let answer: boolean;
    if (j === outer.length) answer = i === inner.length;
    else if (outer[j] === '**') answer = covers(i, j + 1) || (i < inner.length && covers(i + 1, j));
    else if (outer[j] === '*')
      answer = covers(i, j + 1) || (i < inner.length && inner[i] !== '**' && inner[i] !== '/' && covers(i + 1, j));
    else answer = i < inner.length && inner[i] === outer[j] && covers(i + 1, j + 1);
    seen.set(key, answer);
    return answer;
  };
  return covers(0, 0);
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
  oauth: row.oauth
    ? {
        authorization_url: row.oauth.authorization_url,
        token_url: row.oauth.token_url,
        revocation_url: row.oauth.revocation_url,
        client_id: row.oauth.client_id,
        scopes: row.oauth.scopes,
        connected_at: row.connected_at,
      }
    : null,
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
  private readonly pending = new PendingAuthorizations();
  /** OAuth access tokens by connection id: in memory only, never handed out. */
  private readonly accessTokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(
    private readonly db: Database,
    private readonly audit: AuditLog,
    private readonly secrets: SecretStore,
    private readonly permissions: PermissionsService,
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
    const { oauth } = input;
    if (!oauth && input.secret === undefined) throw invalid('body.secret', 'is required (or give oauth)');
    if (oauth && input.secret !== undefined) throw invalid('body.secret', 'is not taken by an OAuth connection');
    if (oauth && input.injection.kind === 'header' && !input.injection.template.includes('{secret}'))
      throw invalid('body.injection.template', 'must hold {secret}');
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
      oauth: oauth
        ? {
            authorization_url: checkBaseUrl(oauth.authorization_url, 'body.oauth.authorization_url', 'allowed'),
            token_url: checkBaseUrl(oauth.token_url, 'body.oauth.token_url', 'allowed'),
            revocation_url: oauth.revocation_url
              ? checkBaseUrl(oauth.revocation_url, 'body.oauth.revocation_url', 'allowed')
              : null,
            client_id: oauth.client_id,
            scopes: oauth.scopes ?? [],
            client_secret_account: oauth.client_secret ? accounts.connectionClientSecret(id) : null,
          }
        : null,
      connected_at: null,
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
      // A grant that outlived an earlier connection of this name grants again from now on.
      const agentsAffected = await this.permissions.registryChanged(tx, [tool], actor);
      await this.audit.append(tx, {
        event_type: 'connection.created',
        actor,
        project_id: project.id,
        target: tool,
        metadata: {
          base_url,
          injection: input.injection.kind,
          oauth: oauth !== undefined,
          agents_affected: agentsAffected,
        },
      });
      // Last: a keychain failure rolls the rows back, and a failed commit undoes the secret.
      if (input.secret !== undefined) await secrets.set(row.secret_account, input.secret);
      if (oauth?.client_secret) await secrets.set(row.oauth!.client_secret_account!, oauth.client_secret);
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
      const agentsAffected = await this.permissions.registryChanged(tx, [connectionTool(name)], actor);
      await this.audit.append(tx, {
        event_type: 'connection.deleted',
        actor,
        project_id: project.id,
        target: connectionTool(name),
        metadata: { agents_affected: agentsAffected },
      });
      return found;
    });
    // After the commit: a keychain failure here leaves an orphan secret, never a row without one.
    await this.secrets.delete(row.secret_account).catch(() => undefined);
    if (row.oauth?.client_secret_account)
      await this.secrets.delete(row.oauth.client_secret_account).catch(() => undefined);
    this.accessTokens.delete(row.id);
    return toConnection(row);
  }

  /** The connection an agent of `projectId` calls, with its secret; null when there is none. */
  forBroker(projectId: string, name: string): Promise<BrokeredConnection | null> {
    return this.brokered.get(`${projectId}/${name}`, async () => {
      const row = await this.db.manager.findOneBy(ConnectionEntity, { project_id: projectId, name });
      if (!row) return null;
      const secret = row.oauth ? null : await this.secrets.get(row.secret_account);
      if (secret === null && !row.oauth)
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
        origin: new URL(row.base_url).origin,
        basePath: new URL(row.base_url).pathname.replace(/\/+$/, ''),
        secret,
        allows: (method: string, path: string) => (methods.size === 0 || methods.has(method)) && paths(path),
      });
    });
  }

  // ── OAuth connections ─────────────────────────────────────────────────────────────────

  /** Starts connecting an account: the URL the admin's browser opens at the provider. */
  async startOAuth(project: ProjectRow, name: string, redirectUri: string): Promise<OAuthStart> {
    const row = await this.find(project, name);
    const oauth = this.oauthOf(row);
    const { state, challenge, expiresAt } = this.pending.start(row.id, redirectUri);
    const url = new URL(oauth.authorization_url);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', oauth.client_id);
    url.searchParams.set('redirect_uri', redirectUri);
    if (oauth.scopes.length > 0) url.searchParams.set('scope', oauth.scopes.join(' '));
    url.searchParams.set('state', state);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    return { authorization_url: url.href, expires_at: new Date(expiresAt).toISOString() };
  }

  /** The provider's redirect: the code is exchanged (with the PKCE verifier) and the refresh token kept. */
  async completeOAuth(
    query: { state: string; code?: string; error?: string },
    actor: Actor,
  ): Promise<{ connection: string; connected_at: string }> {
    const pending = this.pending.take(query.state);
    if (!pending) throw new ProblemError('bad_request', 'This authorization is unknown, used or expired; start again.');
    if (query.error || !query.code)
      throw new ProblemError(
        'forbidden',
        `The provider did not authorize the connection (${(query.error ?? 'no code').slice(0, 64)}).`,
      );
    const row = await this.db.manager.findOneBy(ConnectionEntity, { id: pending.connectionId });
    if (!row) throw notFound('Connection');
    const oauth = this.oauthOf(row);
    const answer = await requestTokens(oauth.token_url, {
      grant_type: 'authorization_code',
      code: query.code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.verifier,
      ...(await this.client(row)),
    });
    if (!answer.refresh_token)
      throw new ProblemError('upstream_unreachable', 'The provider issued no refresh token; the broker needs one.');
    const connectedAt = new Date().toISOString();
    // A new account for the new token (see `accounts.connectionRefreshToken`): the one connected
    // before keeps working until the row naming the new one is committed.
    const account = accounts.connectionRefreshToken(row.id);
    const replaced = await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      const current = await tx.findOneBy(ConnectionEntity, { id: row.id });
      if (!current) throw notFound('Connection');
      await tx.update(
        ConnectionEntity,
        { id: row.id },
        { secret_account: account, connected_at: connectedAt, updated_at: connectedAt },
      );
      await this.audit.append(tx, {
        event_type: 'connection.oauth_connected',
        actor,
        project_id: row.project_id,
        target: connectionTool(row.name),
      });
      await secrets.set(account, answer.refresh_token!);
      return current.secret_account;
    });
    // After the commit: a keychain failure here leaves an orphan for start-up reconciliation.
    await this.secrets.delete(replaced).catch(() => undefined);
    this.keep(row.id, answer);
    return { connection: row.name, connected_at: connectedAt };
  }

  /** Revokes the refresh token at the provider (when it has a revocation endpoint) and forgets it. */
  async revokeOAuth(project: ProjectRow, name: string, actor: Actor): Promise<Connection> {
    const row = await this.find(project, name);
    const oauth = this.oauthOf(row);
    const refreshToken = await this.secrets.get(row.secret_account);
    const revoked =
      refreshToken && oauth.revocation_url
        ? await revokeToken(oauth.revocation_url, {
            token: refreshToken,
            token_type_hint: 'refresh_token',
            ...(await this.client(row)),
          })
        : false;
    const now = new Date().toISOString();
    await this.db.write(async (tx) => {
      await tx.update(ConnectionEntity, { id: row.id }, { connected_at: null as unknown as string, updated_at: now });
      await this.audit.append(tx, {
        event_type: 'connection.oauth_revoked',
        actor,
        project_id: row.project_id,
        target: connectionTool(row.name),
        metadata: { revoked_at_provider: revoked },
      });
    });
    await this.secrets.delete(row.secret_account);
    this.accessTokens.delete(row.id);
    return toConnection({ ...row, connected_at: null, updated_at: now });
  }

  /**
   * A live access token of an OAuth connection, refreshed when it is about to expire (one refresh
   * at a time per connection). Only the broker calls this; the token never leaves the daemon.
   */
  accessToken(row: ConnectionRow): Promise<string> {
    const kept = this.accessTokens.get(row.id);
    if (kept && kept.expiresAt - REFRESH_MARGIN_MS > Date.now()) return Promise.resolve(kept.token);
    let refresh = this.refreshing.get(row.id);
    if (!refresh) {
      refresh = this.refresh(row).finally(() => this.refreshing.delete(row.id));
      this.refreshing.set(row.id, refresh);
    }
    return refresh;
  }

  private async refresh(row: ConnectionRow): Promise<string> {
    const oauth = this.oauthOf(row);
    // The row says whether an account is connected: a token a failed revocation left behind is not used.
    const refreshToken = row.connected_at ? await this.secrets.get(row.secret_account) : null;
    if (!refreshToken)
      throw new ProblemError(
        'credentials_unrecoverable',
        `Connection "${row.name}" has no account connected; connect one first.`,
      );
    const answer = await requestTokens(oauth.token_url, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...(await this.client(row)),
    });
    // A provider that rotates refresh tokens sends a new one: the old one is spent.
    if (answer.refresh_token && answer.refresh_token !== refreshToken)
      await this.keepRotated(row, answer.refresh_token);
    return this.keep(row.id, answer);
  }

  /**
   * The rotated refresh token under a new account, as a reconnect does (see
   * `accounts.connectionRefreshToken`): written, the row committed naming it, then the spent one's
   * item deleted. A reconnect or revoke that committed while the refresh ran wins: its row no
   * longer names the token refreshed with, and the rotated one is not kept.
   */
  private async keepRotated(row: ConnectionRow, refreshToken: string): Promise<void> {
    const account = accounts.connectionRefreshToken(row.id);
    const replaced = await writeWithSecrets(this.db, this.secrets, async (tx, secrets) => {
      const current = await tx.findOneBy(ConnectionEntity, { id: row.id });
      if (current?.secret_account !== row.secret_account || !current.connected_at) return null;
      await tx.update(ConnectionEntity, { id: row.id }, { secret_account: account });
      await secrets.set(account, refreshToken);
      return current.secret_account;
    });
    // After the commit: a keychain failure here leaves an orphan for start-up reconciliation.
    if (replaced) await this.secrets.delete(replaced).catch(() => undefined);
  }

  private keep(connectionId: string, answer: TokenAnswer): string {
    const lifetime = typeof answer.expires_in === 'number' ? answer.expires_in * 1000 : 3600_000;
    this.accessTokens.set(connectionId, { token: answer.access_token, expiresAt: Date.now() + lifetime });
    return answer.access_token;
  }

  /** The client's credentials for the token endpoint (a public client sends only its id). */
  private async client(row: ConnectionRow): Promise<Record<string, string>> {
    const oauth = this.oauthOf(row);
    const secret = oauth.client_secret_account ? await this.secrets.get(oauth.client_secret_account) : null;
    return { client_id: oauth.client_id, ...(secret ? { client_secret: secret } : {}) };
  }

  private oauthOf(row: ConnectionRow): NonNullable<ConnectionRow['oauth']> {
    if (!row.oauth) throw new ProblemError('conflict', `Connection "${row.name}" is not an OAuth connection.`);
    return row.oauth;
  }

  private async find(project: ProjectRow, name: string): Promise<ConnectionRow> {
    const row = await this.db.manager.findOneBy(ConnectionEntity, { project_id: project.id, name });
    if (!row) throw notFound(`Connection "${name}"`);
    return row;
  }
}
