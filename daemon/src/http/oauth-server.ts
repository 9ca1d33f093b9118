import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { MCP_PATH, OAUTH_PATH, TOOLS_SCOPE, type BaseUrl } from '../domain/oauth/authorization-server.js';
import { PROTECTED_RESOURCE_METADATA_PATH } from './resource-auth.js';
import type { Services } from './services.js';

/**
 * Mounts the authorization server at `/oauth/*`, its metadata at
 * `/.well-known/oauth-authorization-server/oauth` (RFC 8414 §3.1 inserts the well-known segment
 * before the issuer's path) and the gateway's Protected Resource Metadata (RFC 9728) at
 * `/.well-known/oauth-protected-resource/mcp`. The provider's bodies are left unread for
 * oidc-provider to parse itself.
 */
export async function registerAuthorizationServer(
  app: FastifyInstance,
  services: Services,
  baseUrl: BaseUrl,
): Promise<void> {
  services.oauth.listensAt(baseUrl, app.log);
  const forward = async (raw: IncomingMessage, response: ServerResponse, path: string) => {
    const server = await services.oauth.server();
    const original = raw.url!;
    Object.assign(raw, { originalUrl: original, url: path });
    await server.callback()(raw, response);
  };

  // RFC 9728 §3.1: the well-known segment goes before the resource's path; clients that only
  // know the host ask at the root, which names the one resource there is.
  const protectedResourceMetadata = async () => ({
    resource: services.oauth.resource,
    authorization_servers: [services.oauth.issuer],
    scopes_supported: [TOOLS_SCOPE],
    bearer_methods_supported: ['header'],
    resource_name: 'Gatehouse MCP gateway',
  });
  app.get(PROTECTED_RESOURCE_METADATA_PATH, { schema: { hide: true } }, protectedResourceMetadata);
  app.get('/.well-known/oauth-protected-resource', { schema: { hide: true } }, protectedResourceMetadata);

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

export { MCP_PATH, OAUTH_PATH, TOOLS_SCOPE };
