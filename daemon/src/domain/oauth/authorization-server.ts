import type { FastifyBaseLogger } from 'fastify';
import type { default as Provider, ClientMetadata, Configuration, InteractionResults } from 'oidc-provider';
import { importQuietly } from '../../logging.js';
import { randomBytes } from 'node:crypto';
import { ProblemError, conflict, notFound } from '../../errors.js';
import { anonymousActor, systemActor, type Actor } from '../actor.js';
import type { AgentsService } from '../agents/agents.service.js';
import type { AgentAuthService } from '../agents/agent-auth.service.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuthFailures } from '../auth/auth-failures.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { Database } from '../../storage/database.js';
import type { AgentRow } from '../../storage/agent-entities.js';
import type { ProjectRow } from '../../storage/entities.js';
import {
  clientSecretMatches,
  deleteClient,
  grantsOf,
  isPreRegistered,
  oauthAdapter,
  PRE_REGISTERED_PREFIX,
  preRegisteredClients,
  purgeExpired,
  readRegistrationPolicy,
  writeRegistrationPolicy,
  type PreRegisteredRecord,
  type RegistrationPolicy,
} from '../../storage/oauth-store.js';
import { loadOAuthKeys } from './oauth-keys.js';

export type { RegistrationPolicy } from '../../storage/oauth-store.js';

/** Where the authorization server lives in the daemon; its issuer is the daemon's URL plus this. */
export const OAUTH_PATH = '/oauth';
/** The gateway, the one protected resource tokens are minted for (RFC 8707 audience). */
export const MCP_PATH = '/mcp';
/** The scope that lets a client call the tools its agent is granted. */
export const TOOLS_SCOPE = 'mcp:tools';
const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** The daemon's own base URL, e.g. http://127.0.0.1:7317 (known once it listens). */
export type BaseUrl = () => string;

/** A loopback redirect URI without its port: RFC 8252 §7.3 lets a native client pick any port. */
function loopbackWithoutPort(uri: string): string | undefined {
  const parsed = URL.parse(uri);
  if (!parsed || parsed.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname)) {
    return undefined;
  }
  parsed.port = '';
  return parsed.href;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** How often expired records are swept, at most: an access token lives 15 minutes. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface AuthorizationServerDeps {
  db: Database;
  secrets: SecretStore;
  audit: AuditLog;
  agents: AgentsService;
  agentAuth: AgentAuthService;
  authFailures: AuthFailures;
  /**
   * Hosts (`host[:port]`) whose Client ID Metadata Documents may be fetched even at a loopback or
   * private address, which is otherwise refused (oidc-provider's SSRF protection). Empty unless
   * the admin lists some: a test's own HTTPS server, or a client's document on the admin's network.
   */
  metadataDocumentHosts?: string[];
}

/** The endpoints where a confidential client authenticates with its secret (RFC 6749 §2.3, 7009, 7662). */
const CLIENT_AUTHENTICATING_ROUTES = new Set(['token', 'revocation', 'introspection']);

/** A client an admin registered, as the console and CLI list it. */
export interface PreRegisteredClient {
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  confidential: boolean;
  created_at: string;
}

const CONFIDENTIAL_AUTH_METHOD = 'client_secret_basic';

const preRegisteredOf = (record: PreRegisteredRecord): PreRegisteredClient => ({
  client_id: record.client_id,
  client_name: record.client_name,
  redirect_uris: record.redirect_uris,
  confidential: record.token_endpoint_auth_method !== 'none',
  created_at: new Date(record.client_id_issued_at * 1000).toISOString(),
});

/** What the consent page shows about a pending authorization request. */
export interface PendingAuthorization {
  client_id: string;
  client_name: string | null;
  redirect_uri: string;
  scopes: string[];
  resource: string | null;
}

/** A client an agent's tokens were issued to, and what it holds. */
export interface ConnectedClient {
  client_id: string;
  client_name: string | null;
  scopes: string[];
  connected_at: string;
  expires_at: string;
}

/** An access token the gateway accepted: the agent it acts as, through which client. */
export interface ResourceAccess {
  agent: AgentRow;
  project: ProjectRow;
  clientId: string;
  scopes: string[];
}

/**
 * Why an access token is refused, as RFC 6750 §3.1 names it, and for the audit log: `reason`, and
 * the agent the token acts as when it is known.
 */
export interface ResourceRefusal {
  error: 'invalid_token' | 'insufficient_scope';
  description: string;
  reason: string;
  agentId?: string;
  projectId?: string;
}

/**
 * oidc-provider (a certified OpenID/OAuth implementation), configured as the OAuth 2.1
 * authorization server the MCP authorization spec expects: authorization code with PKCE S256
 * only, `iss` in the authorization response (RFC 9207), resource indicators whose audience is the
 * resource asked for (RFC 8707), refresh tokens that rotate, revocation and introspection.
 * Accounts are agents: consent picks the agent a client acts as, so its tokens are that agent's.
 * The provider is built on first use, once the listening port (part of the issuer) is known.
 */
export class AuthorizationServer {
  private provider: Promise<Provider> | undefined;
  private baseUrl: BaseUrl = () => {
    throw new Error('the authorization server is used before the daemon listens');
  };
  private log: FastifyBaseLogger | undefined;
  private purgedAt = 0;

  constructor(private readonly deps: AuthorizationServerDeps) {}

  /** Where the daemon answers (set by the HTTP layer, read lazily once it listens). */
  listensAt(baseUrl: BaseUrl, log: FastifyBaseLogger): void {
    this.baseUrl = baseUrl;
    this.log = log;
  }

  baseUrlOf(): string {
    return this.baseUrl();
  }

  get issuer(): string {
    return `${this.baseUrl()}${OAUTH_PATH}`;
  }

  /** The gateway's resource identifier: the audience of every access token. */
  get resource(): string {
    return `${this.baseUrl()}${MCP_PATH}`;
  }

  server(): Promise<Provider> {
    return (this.provider ??= this.build());
  }

  registrationPolicy(): Promise<RegistrationPolicy> {
    return readRegistrationPolicy(this.deps.db);
  }

  async setRegistrationPolicy(policy: RegistrationPolicy, actor: Actor): Promise<RegistrationPolicy> {
    await this.deps.db.write(async (tx) => {
      await writeRegistrationPolicy(tx, policy);
      await this.deps.audit.append(tx, {
        event_type: 'oauth.registration_policy_changed',
        actor,
        metadata: { ...policy },
      });
    });
    return policy;
  }

  /**
   * Registers a client ahead of time (console, CLI, API) with the redirect URIs given. A
   * confidential one authenticates at the token endpoint with a secret returned this once; the
   * store keeps only its hash.
   */
  async preRegister(
    body: { client_name: string; redirect_uris: string[]; confidential?: boolean },
    actor: Actor,
  ): Promise<PreRegisteredClient & { client_secret: string | null }> {
    if (!(await this.registrationPolicy()).pre_registered_clients) {
      throw conflict('Pre-registered clients are switched off; switch them on first.');
    }
    const server = await this.server();
    const clientId = `${PRE_REGISTERED_PREFIX}${crypto.randomUUID()}`;
    const clientSecret = body.confidential ? randomBytes(32).toString('base64url') : null;
    const metadata: ClientMetadata = {
      client_id: clientId,
      client_name: body.client_name,
      redirect_uris: body.redirect_uris,
      token_endpoint_auth_method: clientSecret ? CONFIDENTIAL_AUTH_METHOD : 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_id_issued_at: nowSeconds(),
      ...(clientSecret ? { client_secret: clientSecret } : {}),
    };
    // Validated as oidc-provider validates a registration; refused metadata is a 400 here too.
    await server.Client.validate(metadata).catch((error: Error & { error_description?: string }) => {
      throw new ProblemError('validation_failed', error.error_description ?? error.message);
    });
    await new (oauthAdapter(this.deps.db))('Client').upsert(clientId, metadata);
    await this.deps.audit.record({
      event_type: 'oauth.client_registered',
      actor,
      target: clientId,
      metadata: { client_name: body.client_name, confidential: clientSecret !== null },
    });
    return { ...preRegisteredOf(metadata as unknown as PreRegisteredRecord), client_secret: clientSecret };
  }

  async preRegisteredClients(): Promise<PreRegisteredClient[]> {
    return (await preRegisteredClients(this.deps.db)).map(preRegisteredOf);
  }

  /** Deletes a pre-registered client with every grant and token issued to it (audited). */
  async deletePreRegistered(clientId: string, actor: Actor): Promise<void> {
    const client = `OAuth client "${clientId}"`;
    if (!isPreRegistered(clientId)) throw notFound(client);
    await this.deps.db.write(async (tx) => {
      if (!(await deleteClient(this.deps.db.dialect, tx, clientId))) throw notFound(client);
      await this.deps.audit.append(tx, { event_type: 'oauth.client_deleted', actor, target: clientId });
    });
  }

  private async pending(uid: string) {
    const server = await this.server();
    const interaction = await server.Interaction.find(uid);
    if (!interaction) throw notFound('Authorization request');
    const client = await server.Client.find(interaction.params.client_id as string);
    if (!client) throw notFound('OAuth client');
    return { server, interaction, client };
  }

  async show(uid: string): Promise<PendingAuthorization> {
    const { interaction, client } = await this.pending(uid);
    return {
      client_id: client.clientId,
      client_name: client.clientName ?? null,
      redirect_uri: interaction.params.redirect_uri as string,
      scopes: String(interaction.params.scope ?? '')
        .split(' ')
        .filter(Boolean),
      resource: (interaction.params.resource as string | undefined) ?? null,
    };
  }

  /**
   * The admin's answer, kept on the pending request found by its uid rather than by the
   * browser's interaction cookie: the admin may answer from the desktop console, whose requests
   * carry none. The browser that started the request resumes it at the URL returned, with its
   * own cookies.
   */
  private async answer(interaction: InstanceType<Provider['Interaction']>, result: InteractionResults) {
    interaction.result = result;
    await interaction.save(interaction.exp - nowSeconds());
    return interaction.returnTo;
  }

  /** Approves the request as `agent` (of the admin's project): the tokens will be that agent's. */
  async approve(uid: string, agent: AgentRow, projectId: string, actor: Actor): Promise<{ redirect_to: string }> {
    const { server, interaction, client } = await this.pending(uid);
    if (agent.status !== 'active') throw new ProblemError('conflict', `Agent "${agent.name}" is ${agent.status}.`);
    const grant = new server.Grant({ accountId: agent.id, clientId: client.clientId });
    // The scopes asked for that this server knows: oidc-provider checks the request's scopes
    // against the grant's own before it checks the resource's.
    const requested = String(interaction.params.scope ?? '').split(' ');
    const known = requested.filter((scope) => scope === TOOLS_SCOPE || scope === 'offline_access');
    if (known.length > 0) grant.addOIDCScope(known.join(' '));
    grant.addResourceScope(this.resource, TOOLS_SCOPE);
    const grantId = await grant.save();
    await this.deps.audit.record({
      event_type: 'oauth.consent_granted',
      actor,
      agent_id: agent.id,
      project_id: projectId,
      target: client.clientId,
      metadata: { client_name: client.clientName ?? null, redirect_uri: interaction.params.redirect_uri as string },
    });
    return { redirect_to: await this.answer(interaction, { login: { accountId: agent.id }, consent: { grantId } }) };
  }

  async deny(uid: string, projectId: string, actor: Actor): Promise<{ redirect_to: string }> {
    const { interaction, client } = await this.pending(uid);
    await this.deps.audit.record({
      event_type: 'oauth.consent_denied',
      actor,
      project_id: projectId,
      target: client.clientId,
    });
    const denied = { error: 'access_denied', error_description: 'The administrator denied the request.' };
    return { redirect_to: await this.answer(interaction, denied) };
  }

  /** The clients holding a grant of `agent`, newest first. */
  async connectedClients(agent: AgentRow): Promise<ConnectedClient[]> {
    const server = await this.server();
    const grants = await grantsOf(this.deps.db, agent.id);
    return Promise.all(
      grants.map(async (grant) => {
        const client = await server.Client.find(grant.clientId);
        return {
          client_id: grant.clientId,
          client_name: client?.clientName ?? null,
          scopes: grant.scopes,
          connected_at: new Date(grant.iat * 1000).toISOString(),
          expires_at: new Date(grant.exp * 1000).toISOString(),
        };
      }),
    );
  }

  /** Revokes every grant of `agent` to `clientId`, with the codes and tokens issued under it. */
  async disconnect(agent: AgentRow, clientId: string, projectId: string, actor: Actor): Promise<void> {
    const server = await this.server();
    const grants = (await grantsOf(this.deps.db, agent.id)).filter((grant) => grant.clientId === clientId);
    if (grants.length === 0) throw notFound(`OAuth client "${clientId}" of agent "${agent.name}"`);
    const adapter = new (oauthAdapter(this.deps.db))('Grant');
    for (const grant of grants) {
      await adapter.revokeByGrantId(grant.grantId);
      await (await server.Grant.find(grant.grantId))?.destroy();
    }
    await this.deps.audit.record({
      event_type: 'oauth.client_revoked',
      actor,
      agent_id: agent.id,
      project_id: projectId,
      target: clientId,
    });
  }

  /**
   * Checks an access token presented to the gateway: issued here, unexpired, unrevoked, minted
   * for the gateway and no other resource (RFC 8707; GHSA-w4fh-qvv9-3v23 is what accepting
   * another audience costs), carrying `mcp:tools`, and acting as an agent that is still active.
   */
  async verifyAccessToken(token: string): Promise<ResourceAccess | ResourceRefusal> {
    const server = await this.server();
    const found = await server.AccessToken.find(token);
    if (!found) {
      return {
        error: 'invalid_token',
        description: 'The access token is unknown, expired or revoked.',
        reason: 'unknown_oauth_token',
      };
    }
    if (found.aud !== this.resource) {
      return {
        error: 'invalid_token',
        description: `The access token was issued for another resource.`,
        reason: 'oauth_token_for_another_resource',
      };
    }
    const scopes = (found.scope ?? '').split(' ').filter(Boolean);
    if (!scopes.includes(TOOLS_SCOPE)) {
      return {
        error: 'insufficient_scope',
        description: `The access token lacks the ${TOOLS_SCOPE} scope.`,
        reason: 'insufficient_scope',
      };
    }
    const owner = found.accountId ? await this.deps.agentAuth.agentById(found.accountId) : null;
    if (!owner || owner.agent.status !== 'active') {
      return {
        error: 'invalid_token',
        description: 'The agent this token acts as is suspended or revoked.',
        ...(owner
          ? { reason: `agent_${owner.agent.status}`, agentId: owner.agent.id, projectId: owner.project.id }
          : { reason: 'unknown_agent' }),
      };
    }
    return { ...owner, clientId: found.clientId!, scopes };
  }

  private async build(): Promise<Provider> {
    const { secrets, db, audit, agentAuth, authFailures } = this.deps;
    // Imported on first use: its runtime warning goes to the log, not the daemon's stderr.
    const { default: Provider, errors } = await importQuietly(() => import('oidc-provider'), this.log!);
    const keys = await loadOAuthKeys(db, secrets);
    const resource = this.resource;
    const registrationPolicy = () => readRegistrationPolicy(db);
    const trustedHosts = new Set(this.deps.metadataDocumentHosts ?? []);
    const configuration: Configuration = {
      // oidc-provider hands fetch a dispatcher that refuses loopback and private addresses (SSRF).
      // Only for a host the admin listed is it left out; certificates are checked either way,
      // against the system's CAs and NODE_EXTRA_CA_CERTS.
      fetch: (input, init) => {
        const host = new URL(input instanceof Request ? input.url : input).host;
        if (!trustedHosts.has(host)) return fetch(input, init);
        const { dispatcher: _ssrfGuard, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
        return fetch(input, rest);
      },
      adapter: oauthAdapter(db),
      jwks: { keys: [keys.signingKey] },
      cookies: { keys: keys.cookieKeys },
      // Public clients (desktop assistants, IDEs, CLIs) and confidential ones holding a secret,
      // which the store keeps only as a hash (see compareClientSecret below).
      clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
      clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'EdDSA',
      },
      enabledJWA: { idTokenSigningAlgValues: ['EdDSA'] },
      // Listed so that metadata names it and a client may register with it (RFC 7591 `scope`);
      // consent grants it both here and on the gateway (see approve).
      scopes: [TOOLS_SCOPE, 'offline_access'],
      claims: { openid: ['sub'] },
      pkce: { required: () => true },
      responseTypes: ['code'],
      features: {
        devInteractions: { enabled: false },
        registration: { enabled: true },
        // Client ID Metadata Documents: a client_id that is an https URL naming the client's metadata.
        clientIdMetadataDocument: {
          enabled: true,
          ack: 'draft-02',
          allowFetch: async () => (await registrationPolicy()).client_id_metadata_documents,
        },
        // A client sees and revokes its own tokens only: Gatehouse has no other resource server
        // that could be entitled to (the defaults let a confidential client reach any token).
        revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        introspection: {
          enabled: true,
          allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
        },
        rpInitiatedLogout: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => resource,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, indicator) => {
            if (indicator !== resource)
              throw new errors.InvalidTarget(`this server issues tokens only for ${resource}`);
            // Opaque tokens, stored by their hash: revocation and a revoked grant end them at once.
            return {
              scope: TOOLS_SCOPE,
              audience: resource,
              accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
              accessTokenFormat: 'opaque',
            };
          },
        },
      },
      // A public client's refresh token is used once: each refresh returns a new one, and
      // presenting a used one revokes the whole grant (oidc-provider's reuse detection).
      rotateRefreshToken: true,
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      ttl: {
        AccessToken: ACCESS_TOKEN_TTL_SECONDS,
        AuthorizationCode: 60,
        Grant: 30 * 24 * 3600,
        Interaction: 15 * 60,
        RefreshToken: 30 * 24 * 3600,
        Session: 24 * 3600,
      },
      routes: {
        authorization: '/authorize',
        token: '/token',
        registration: '/register',
        revocation: '/revoke',
        introspection: '/introspect',
        jwks: '/jwks',
        userinfo: '/userinfo',
      },
      // An error the server cannot redirect (unknown client, unregistered redirect URI) is
      // answered as the OAuth error object itself, not an HTML page.
      renderError: (ctx, out) => {
        ctx.type = 'application/json';
        ctx.body = out;
      },
      interactions: { url: (_ctx, interaction) => `/#/oauth/consent/${interaction.uid}` },
      findAccount: async (_ctx, agentId) => {
        const found = await agentAuth.agentById(agentId);
        return found ? { accountId: found.agent.id, claims: () => ({ sub: found.agent.id }) } : undefined;
      },
    };
    const provider = new Provider(this.issuer, configuration);
    // The daemon trusts no X-Forwarded-* header: it is the only server in front of itself.
    provider.proxy = false;
    const exactOrLoopback = function (this: InstanceType<Provider['Client']>, uri: string): boolean {
      if (this.redirectUris?.includes(uri)) return true;
      const withoutPort = loopbackWithoutPort(uri);
      return withoutPort !== undefined && (this.redirectUris ?? []).some((r) => loopbackWithoutPort(r) === withoutPort);
    };
    provider.Client.prototype.redirectUriAllowed = exactOrLoopback;
    // The stored secret is a hash: a presented secret is hashed to compare.
    provider.Client.prototype.compareClientSecret = function (this: InstanceType<Provider['Client']>, presented) {
      return clientSecretMatches(this.clientSecret, presented);
    };
    // Switched off, the pre-registered clients are unknown to every endpoint (and to consent).
    const findClient = provider.Client.find.bind(provider.Client);
    provider.Client.find = async (id) =>
      isPreRegistered(id) && !(await registrationPolicy()).pre_registered_clients ? undefined : findClient(id);
    provider.use(async (ctx, next) => {
      // Dynamic Client Registration is the admin's to switch off; the endpoint then refuses, as
      // RFC 7591 §3.2.2 lets a server refuse a registration.
      if (ctx.method === 'POST' && ctx.path === '/register' && !(await registrationPolicy()).dynamic_registration) {
        ctx.status = 403;
        ctx.type = 'application/json';
        ctx.body = {
          error: 'access_denied',
          error_description: 'Dynamic Client Registration is switched off; ask the administrator for a client.',
        };
        return;
      }
      await next();
      const route = ctx.oidc?.route;
      if (route === undefined || !CLIENT_AUTHENTICATING_ROUTES.has(route)) return;
      // A client secret, code or refresh token refused is a failed authentication like any other:
      // audited and counted, and past the limit answered 429 with Retry-After.
      const refused = ctx.status >= 400 ? (ctx.body as { error?: string } | undefined)?.error : undefined;
      if (refused === 'invalid_client' || refused === 'invalid_grant') {
        const failed = await authFailures.fail({ actor: anonymousActor(ctx.ip), reason: `oauth_${refused}` });
        if (failed.code !== 'rate_limited') return;
        ctx.status = 429;
        for (const [name, value] of Object.entries(failed.extras.headers ?? {})) ctx.set(name, value);
        ctx.body = { error: 'temporarily_unavailable', error_description: failed.detail };
        return;
      }
      // Every token the server hands out is in the audit chain, as an event of the agent it acts
      // as, before the client has it.
      if (route !== 'token' || ctx.status !== 200) return;
      const issued = ctx.oidc.entities.AccessToken ?? ctx.oidc.entities.RefreshToken;
      const clientId = ctx.oidc.client?.clientId ?? null;
      // Expired records are swept at an issuance (no timer to outlive the daemon), at most hourly.
      if (Date.now() - this.purgedAt >= PURGE_INTERVAL_MS) {
        this.purgedAt = Date.now();
        await purgeExpired(db);
      }
      const owner = issued?.accountId ? await agentAuth.agentById(issued.accountId) : null;
      await audit.record({
        event_type: 'oauth.token_issued',
        actor: { ...systemActor, label: `oauth-client:${clientId}`, source: ctx.ip },
        agent_id: issued?.accountId ?? null,
        project_id: owner?.project.id ?? null,
        target: clientId,
        metadata: {
          grant_type: (ctx.oidc.params?.grant_type as string | undefined) ?? null,
          scope: issued?.scope ?? null,
        },
      });
    });
    return provider;
  }
}
