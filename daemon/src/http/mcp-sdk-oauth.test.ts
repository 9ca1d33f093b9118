import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type HttpUpstream } from '../testing/mcp-upstream.js';
import { openInBrowser, REDIRECT_URI } from '../testing/oauth-flow.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

/**
 * What the official TypeScript SDK asks of an application that uses its OAuth client: keep the
 * registration, tokens and verifier it hands over, and open a browser. Nothing in it knows
 * Gatehouse.
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
  };
  clientInformation = () => this.information;
  saveClientInformation = (information: OAuthClientInformationMixed) => void (this.information = information);
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens);
  redirectToAuthorization = (url: URL) => void (this.opened = url);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
}

describe('a stock MCP client (the TypeScript SDK) signing in to the gateway with OAuth', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    upstream = await startHttpUpstream({ token: 'remote-credential-77' });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'remote', transport: 'http', url: upstream.url, credential: 'remote-credential-77' },
    });
    for (let waited = 0; ; waited += 100) {
      const { body } = await t.request('GET', '/v1/servers/remote', { token: admin });
      if (body.status === 'running') break;
      if (waited > 20_000) throw new Error(`the tool server stayed ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'assistant', allowed_tools: ['remote.echo'] },
    });
  });
  afterAll(async () => {
    await t.dispose();
    await upstream.close();
  });

  it('discovers, registers, sends the user to consent, and then uses exactly the tools of the chosen agent', async () => {
    const mcp = new URL(`${t.url}/mcp`);
    const provider = new StockClientProvider();

    // 1. unauthenticated: the gateway's challenge names its Protected Resource Metadata; the SDK
    //    follows it to the authorization server, registers and opens the browser
    const bare = await fetch(mcp, { method: 'POST' });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${t.url}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`,
    );
    const first = new StreamableHTTPClientTransport(mcp, { authProvider: provider });
    await expect(new Client({ name: 'stock', version: '1.0.0' }).connect(first)).rejects.toThrow(UnauthorizedError);
    expect(provider.information?.client_id).toEqual(expect.any(String));
    const opened = provider.opened!;
    expect(opened.origin + opened.pathname).toBe(`${t.url}/oauth/authorize`);
    expect(opened.searchParams.get('code_challenge_method')).toBe('S256');
    expect(opened.searchParams.get('resource')).toBe(mcp.href);

    // 2. the admin approves on the consent page; the browser returns to the client with the code
    const browser = await openInBrowser(t, opened);
    const approved = await t.request('POST', `/admin/oauth/requests/${browser.uid}/approve`, {
      token: admin,
      body: { agent: 'assistant' },
    });
    const back = await browser.resume(approved.body.redirect_to);
    expect(back.searchParams.get('iss')).toBe(`${t.url}/oauth`);
    await first.finishAuth(back.searchParams.get('code')!);

    // 3. connected as the agent: its granted tool and nothing else
    const client = new Client({ name: 'stock', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['remote.echo']);
    const echoed = await client.callTool({ name: 'remote.echo', arguments: { text: 'through oauth' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'through oauth' }]);
    await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 1 } })).rejects.toThrow(/not_granted/);
    await client.close();

    // 4. an expired access token: the SDK refreshes (a new pair) and carries on
    const spent = provider.saved!;
    provider.saved = { ...spent, access_token: 'expired-or-unknown' };
    const again = new Client({ name: 'stock', version: '1.0.0' });
    await again.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    expect((await again.listTools()).tools.map((tool) => tool.name)).toEqual(['remote.echo']);
    expect(provider.saved!.refresh_token).not.toBe(spent.refresh_token);
    await again.close();
  });
});
