import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { default as Provider, Configuration } from 'oidc-provider';
import { importQuietly } from '../logging.js';
import { loadOAuthKeys } from '../domain/oauth/oauth-keys.js';
import { oauthAdapter } from '../storage/oauth-store.js';
import type { Services } from './services.js';

/** Where the authorization server lives in the daemon; its issuer is the daemon's URL plus this. */
export const OAUTH_PATH = '/oauth';
/** The gateway, the one protected resource tokens are minted for (RFC 8707 audience). */
export const MCP_PATH = '/mcp';
/** The scope that lets a client call the tools its agent is granted. */
export const TOOLS_SCOPE = 'mcp:tools';
const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

/** A loopback redirect URI without its port: RFC 8252 §7.3 lets a native client pick any port. */
function loopbackWithoutPort(uri: string): string | undefined {
  const parsed = URL.parse(uri);
  if (!parsed || parsed.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname)) {
    return undefined;
  }
  parsed.port = '';
  return parsed.href;
}

/** The daemon's own base URL, e.g. http://127.0.0.1:7317 (known once it listens). */
export type BaseUrl = () => string;

/**
 * oidc-provider (a certified OpenID/OAuth implementation), configured as the OAuth 2.1
 * authorization server the MCP authorization spec expects: authorization code with PKCE S256
 * only, `iss` in the authorization response (RFC 9207), resource indicators whose audience is the
 * resource asked for (RFC 8707), refresh tokens that rotate, revocation and introspection.
 * Accounts are agents: consent picks the agent a client acts as.
 */
async function createAuthorizationServer(
  services: Services,
  baseUrl: string,
  log: FastifyBaseLogger,
): Promise<Provider> {
  const { default: Provider, errors } = await importQuietly(() => import('oidc-provider'), log);
  const keys = await loadOAuthKeys(services.secrets);
  const resource = `${baseUrl}${MCP_PATH}`;
  const configuration: Configuration = {
    adapter: oauthAdapter(services.db),
    jwks: { keys: [keys.signingKey] },
    cookies: { keys: keys.cookieKeys },
    // Public clients only (desktop assistants, IDEs, CLIs): no client secret is ever stored.
    clientAuthMethods: ['none'],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'EdDSA',
    },
    enabledJWA: { idTokenSigningAlgValues: ['EdDSA'] },
    scopes: [TOOLS_SCOPE, 'offline_access'],
    claims: { openid: ['sub'] },
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== resource) throw new errors.InvalidTarget(`this server issues tokens only for ${resource}`);
          return {
            scope: TOOLS_SCOPE,
            audience: resource,
            accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'EdDSA' } },
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
      const found = await services.agentAuth.agentById(agentId);
      return found ? { accountId: found.agent.id, claims: () => ({ sub: found.agent.id }) } : undefined;
    },
  };
  const provider = new Provider(`${baseUrl}${OAUTH_PATH}`, configuration);
  // The daemon is the proxy in front of itself only when it serves TLS; either way it trusts no
  // X-Forwarded-* header.
  provider.proxy = false;
  const exactOrLoopback = function (this: InstanceType<Provider['Client']>, uri: string): boolean {
    if (this.redirectUris?.includes(uri)) return true;
    const withoutPort = loopbackWithoutPort(uri);
    return withoutPort !== undefined && (this.redirectUris ?? []).some((r) => loopbackWithoutPort(r) === withoutPort);
  };
  provider.Client.prototype.redirectUriAllowed = exactOrLoopback;
  return provider;
}

/**
 * Mounts the authorization server at `/oauth/*` and its metadata at
 * `/.well-known/oauth-authorization-server/oauth` (RFC 8414 §3.1 inserts the well-known segment
 * before the issuer's path). The provider is built on the first request, once the listening port
 * (part of the issuer) is known. Its bodies are left unread for oidc-provider to parse itself.
 */
export async function registerAuthorizationServer(
  app: FastifyInstance,
  services: Services,
  baseUrl: BaseUrl,
): Promise<void> {
  let provider: Promise<Provider> | undefined;
  const authorizationServer = () => (provider ??= createAuthorizationServer(services, baseUrl(), app.log));
  const forward = async (raw: IncomingMessage, response: ServerResponse, path: string) => {
    const server = await authorizationServer();
    const original = raw.url!;
    Object.assign(raw, { originalUrl: original, url: path });
    await server.callback()(raw, response);
  };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    scope.route({
      method: ['GET', 'POST'],
      url: `${OAUTH_PATH}/*`,
      schema: { hide: true },
      handler: async (request, reply) => {
        reply.hijack();
        await forward(request.raw, reply.raw, request.raw.url!.slice(OAUTH_PATH.length));
      },
    });
    scope.get(
      `/.well-known/oauth-authorization-server${OAUTH_PATH}`,
      { schema: { hide: true } },
      async (request, reply) => {
        reply.hijack();
        // As if asked at /oauth/.well-known/openid-configuration: the endpoints it names are under /oauth.
        request.raw.url = `${OAUTH_PATH}/.well-known/openid-configuration`;
        await forward(request.raw, reply.raw, '/.well-known/openid-configuration');
      },
    );
  });
}
