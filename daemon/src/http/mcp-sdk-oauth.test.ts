import Fastify, { type FastifyInstance } from 'fastify';
import { auth, extractWWWAuthenticateParams, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openInBrowser, REDIRECT_URI } from '../testing/oauth-flow.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { requireResourceToken } from './resource-auth.js';

/**
 * The client side of an MCP client, as the official TypeScript SDK's OAuth flow runs it: a
 * provider that keeps what the SDK hands it, and a browser it asks to open the authorization
 * URL. Nothing in it knows Gatehouse.
 */
class StockClientProvider implements OAuthClientProvider {
  information: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  opened: URL | undefined;
  readonly redirectUrl = REDIRECT_URI;
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'Stock MCP client',
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    scope: 'mcp:tools offline_access',
  };
  clientInformation = () => this.information;
  saveClientInformation = (information: OAuthClientInformationMixed) => void (this.information = information);
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens);
  redirectToAuthorization = (url: URL) => void (this.opened = url);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
}

describe('the MCP TypeScript SDK OAuth client against the daemon', () => {
  let t: TestDaemon;
  let admin: string;
  let gateway: FastifyInstance;
  let gatewayUrl: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'assistant' } });
    // A route guarded exactly as the gateway is, until /mcp itself is here.
    gateway = Fastify();
    gateway.post('/mcp', async (request, reply) => {
      const agent = await requireResourceToken(t.daemon.services, request, reply);
      return agent ? { agent: agent.agent.name } : reply;
    });
    gatewayUrl = `${await gateway.listen({ host: '127.0.0.1', port: 0 })}/mcp`;
  });
  afterAll(async () => {
    await gateway.close();
    await t.dispose();
  });

  it('discovers, registers, sends the user to consent, exchanges the code with PKCE, calls and refreshes', async () => {
    // 1. unauthenticated: the challenge names the Protected Resource Metadata
    const unauthenticated = await fetch(gatewayUrl, { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
    const { resourceMetadataUrl } = extractWWWAuthenticateParams(unauthenticated);
    expect(resourceMetadataUrl?.href).toBe(`${t.url}/.well-known/oauth-protected-resource/mcp`);

    // 2. the SDK discovers the authorization server, registers (RFC 7591) and opens the browser
    const client = new StockClientProvider();
    const serverUrl = `${t.url}/mcp`;
    expect(await auth(client, { serverUrl, resourceMetadataUrl })).toBe('REDIRECT');
    expect(client.information?.client_id).toEqual(expect.any(String));
    const opened = client.opened!;
    expect(opened.origin + opened.pathname).toBe(`${t.url}/oauth/authorize`);
    expect(opened.searchParams.get('code_challenge_method')).toBe('S256');
    expect(opened.searchParams.get('resource')).toBe(serverUrl);

    // 3. the admin approves on the consent page; the browser returns to the client with the code
    const browser = await openInBrowser(t, opened);
    const approved = await t.request('POST', `/admin/oauth/requests/${browser.uid}/approve`, {
      token: admin,
      body: { agent: 'assistant' },
    });
    const back = await browser.resume(approved.body.redirect_to);
    expect(back.searchParams.get('iss')).toBe(`${t.url}/oauth`);
    const authorizationCode = back.searchParams.get('code')!;

    // 4. the SDK exchanges the code (PKCE verifier, resource) for tokens
    expect(await auth(client, { serverUrl, resourceMetadataUrl, authorizationCode })).toBe('AUTHORIZED');
    const first = client.saved!;
    const call = (token: string) =>
      fetch(gatewayUrl, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await (await call(first.access_token)).json()).toEqual({ agent: 'assistant' });

    // 5. with tokens held, the SDK refreshes them: a new pair, the old refresh token spent
    expect(await auth(client, { serverUrl, resourceMetadataUrl })).toBe('AUTHORIZED');
    const second = client.saved!;
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await call(second.access_token)).status).toBe(200);
  });
});
