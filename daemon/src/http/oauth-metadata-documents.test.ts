import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { challengeOf, newVerifier, openInBrowser, REDIRECT_URI } from '../testing/oauth-flow.js';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from '../testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from '../testing/test-daemon.js';

/*
 * Client ID Metadata Documents fetched for real: the client's document is served over HTTPS by a
 * server in this test, on loopback. The daemon refuses loopback and private addresses to any host
 * (oidc-provider's SSRF protection) except those GATEHOUSE_OAUTH_METADATA_HOSTS lists, and checks
 * certificates against the system's CAs plus NODE_EXTRA_CA_CERTS — here, this test's own
 * certificate. So the daemon runs as its own process, started with both, as an admin would.
 */

/** Its own trust anchor for `localhost` and 127.0.0.1. */
const localhost = { commonName: 'localhost', subjectAltName: 'DNS:localhost,IP:127.0.0.1' };

/** An HTTPS server answering each path with the document kept for it (and counting the fetches). */
async function documentServer(tls: { key: string; cert: string }) {
  const documents = new Map<string, string>();
  const fetched: string[] = [];
  const server: Server = createServer(
    { key: readFileSync(tls.key), cert: readFileSync(tls.cert) },
    (request, response) => {
      fetched.push(request.url!);
      const body = documents.get(request.url!);
      if (body === undefined) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { server, port, documents, fetched };
}

describe('Client ID Metadata Documents, fetched from an HTTPS server the daemon is told to trust', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cimd-'));
  const home = join(dir, 'home');
  let trusted: Awaited<ReturnType<typeof documentServer>>;
  let untrusted: Awaited<ReturnType<typeof documentServer>>;
  let daemon: SpawnedDaemon;
  let url: string;
  let admin: string;
  /** A document URL on the trusted server, named as the allow-list names it. */
  const at = (path: string) => `https://localhost:${trusted.port}${path}`;
  const documentFor = (clientId: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      client_id: clientId,
      client_name: 'Metadata document client',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...extra,
    });
  const serve = (path: string, body = documentFor(at(path))) => {
    trusted.documents.set(path, body);
    return at(path);
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, any> };
  };
  /** The authorization request of a client named by `clientId`; the answer's status and body. */
  const authorize = async (clientId: string, redirectUri = REDIRECT_URI) => {
    const response = await fetch(
      `${url}/oauth/authorize?${new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        code_challenge: challengeOf(newVerifier()),
        code_challenge_method: 'S256',
        scope: 'mcp:tools',
        resource: `${url}/mcp`,
      })}`,
      { redirect: 'manual' },
    );
    const text = await response.text();
    return {
      status: response.status,
      location: response.headers.get('location'),
      body: text ? JSON.parse(text) : null,
    };
  };

  beforeAll(async () => {
    trusted = await documentServer(selfSignedCertificate(dir, { name: 'trusted', ...localhost }));
    untrusted = await documentServer(selfSignedCertificate(dir, { name: 'untrusted', ...localhost }));
    daemon = spawnGatehouse(['daemon', '--port', '0'], {
      GATEHOUSE_HOME: home,
      GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService(),
      NODE_EXTRA_CA_CERTS: join(dir, 'trusted.pem'),
      GATEHOUSE_OAUTH_METADATA_HOSTS: `localhost:${trusted.port},localhost:${untrusted.port}`,
    });
    url = (await waitForDaemon(home, daemon)).url;
    const json = { 'content-type': 'application/json' };
    await fetch(`${url}/auth/setup`, { method: 'POST', headers: json, body: JSON.stringify(ADMIN) });
    const login = await fetch(`${url}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify(ADMIN) });
    admin = ((await login.json()) as { access_token: string }).access_token;
    expect((await api('POST', '/admin/agents', { name: 'assistant' })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    trusted.server.close();
    untrusted.server.close();
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it("lets the MCP SDK's client sign in with its document as client_id: consent, token, gateway and refresh", async () => {
    const documentUrl = serve('/sdk-client.json');
    let information: OAuthClientInformationMixed | undefined;
    let tokens: OAuthTokens | undefined;
    let verifier = '';
    let opened: URL | undefined;
    // What the SDK asks of an application that has a metadata document; nothing here knows Gatehouse.
    const provider: OAuthClientProvider = {
      redirectUrl: REDIRECT_URI,
      clientMetadataUrl: documentUrl,
      clientMetadata: JSON.parse(documentFor(documentUrl)) as OAuthClientMetadata,
      clientInformation: () => information,
      saveClientInformation: (saved) => void (information = saved),
      tokens: () => tokens,
      saveTokens: (saved) => void (tokens = saved),
      redirectToAuthorization: (to) => void (opened = to),
      saveCodeVerifier: (saved) => void (verifier = saved),
      codeVerifier: () => verifier,
    };
    const mcp = new URL(`${url}/mcp`);
    const first = new StreamableHTTPClientTransport(mcp, { authProvider: provider });
    await expect(new Client({ name: 'cimd', version: '1.0.0' }).connect(first)).rejects.toThrow(UnauthorizedError);
    // No registration: the document's URL is the client_id, fetched when the browser asks.
    expect(opened!.searchParams.get('client_id')).toBe(documentUrl);
    const browser = await openInBrowser({ url }, opened!);
    expect(trusted.fetched).toContain('/sdk-client.json');
    const shown = await api('GET', `/admin/oauth/requests/${browser.uid}`);
    expect(shown.body).toMatchObject({ client_id: documentUrl, client_name: 'Metadata document client' });
    const approved = await api('POST', `/admin/oauth/requests/${browser.uid}/approve`, { agent: 'assistant' });
    const back = await browser.resume(approved.body.redirect_to as string);
    await first.finishAuth(back.searchParams.get('code')!);
    expect(tokens).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });

    const client = new Client({ name: 'cimd', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    expect((await client.listTools()).tools).toEqual([]);
    await client.close();

    const spent = tokens!;
    tokens = { ...spent, access_token: 'expired-or-unknown' };
    const again = new Client({ name: 'cimd', version: '1.0.0' });
    await again.connect(new StreamableHTTPClientTransport(mcp, { authProvider: provider }));
    expect(tokens.refresh_token).not.toBe(spent.refresh_token);
    await again.close();

    const connected = await api('GET', '/v1/agents/assistant/oauth-clients');
    expect(connected.body).toMatchObject([{ client_id: documentUrl, client_name: 'Metadata document client' }]);
  });

  it('refuses a document whose client_id is not its own URL', async () => {
    const answer = await authorize(serve('/impostor.json', documentFor(at('/someone-else.json'))));
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_client_metadata', error_description: expect.stringContaining('does not match') },
    });
  });

  it('refuses a redirect URI the document does not list, and never redirects to it', async () => {
    const answer = await authorize(serve('/listed.json'), 'http://127.0.0.1:53124/elsewhere');
    expect(answer).toMatchObject({ status: 400, location: null, body: { error: 'invalid_redirect_uri' } });
  });

  it('refuses a document larger than 5 KiB (fetched, then refused for its size)', async () => {
    const path = '/oversize.json';
    const answer = await authorize(serve(path, documentFor(at(path), { client_name: 'x'.repeat(6 * 1024) })));
    expect(trusted.fetched).toContain(path);
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: expect.stringContaining('fetch failed') },
    });
  });

  it('takes an http:// client_id for no document at all (and fetches nothing)', async () => {
    trusted.fetched.length = 0;
    const answer = await authorize(`http://localhost:${trusted.port}/plain-http.json`);
    expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_client' } });
    expect(trusted.fetched).toEqual([]);
  });

  it('still refuses a loopback host not on the list, and a listed host whose certificate it does not trust', async () => {
    trusted.fetched.length = 0;
    // The same server under another name: not listed, so the SSRF protection refuses the loopback address.
    const path = '/unlisted.json';
    trusted.documents.set(path, documentFor(`https://127.0.0.1:${trusted.port}${path}`));
    const unlisted = await authorize(`https://127.0.0.1:${trusted.port}${path}`);
    expect(unlisted).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: expect.stringContaining('fetch failed') },
    });
    expect(trusted.fetched).toEqual([]);

    const untrustedUrl = `https://localhost:${untrusted.port}/client.json`;
    untrusted.documents.set('/client.json', documentFor(untrustedUrl));
    const unverified = await authorize(untrustedUrl);
    expect(unverified).toMatchObject({
      status: 400,
      body: { error: 'invalid_client', error_description: expect.stringContaining('fetch failed') },
    });
    expect(untrusted.fetched).toEqual([]);
  });
});
