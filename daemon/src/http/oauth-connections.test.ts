import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import keytar from 'keytar';
import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrashingStore } from '../testing/crashing-store.js';
import { databaseFiles, readFiles } from '../testing/database-files.js';
import { ADMIN, startWithAdmin, testKeychainService, type TestDaemon } from '../testing/test-daemon.js';

interface Issued {
  grant: string;
  refreshSent: string | undefined;
  clientSecret: string | undefined;
  verifier: string | undefined;
  access_token: string;
  refresh_token: string;
}

describe('OAuth connections against a real OAuth server', () => {
  let t: TestDaemon;
  const keychainService = testKeychainService();
  const store = new CrashingStore(keychainService);
  let admin: string;
  const oauth = new OAuth2Server();
  let upstream: Server;
  const seenAuthorization: string[] = [];
  const issued: Issued[] = [];
  const revoked: string[] = [];
  let connectionId: string;

  const broker = (key: string) =>
    fetch(`${t.url}/proxy/github/user`, { headers: { authorization: `Bearer ${key}` } }).then(async (response) => ({
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
    }));
  let key: string;
  /** The refresh-token items of the connection: `connection:<id>` and `connection:<id>:<uuid>`. */
  const refreshTokens = async () =>
    (await keytar.findCredentials(keychainService))
      .filter((item) => item.account.startsWith(`connection:${connectionId}`))
      .map((item) => item.password);
  const refreshTokenAccounts = async () =>
    (await keytar.findCredentials(keychainService))
      .filter((item) => item.account.startsWith(`connection:${connectionId}`))
      .map((item) => item.account);
  /**
   * After a crash between a keychain write and its commit: restart with a working keychain, sign the
   * admin in again, and check that start-up reconciliation removed the one orphan item.
   */
  const restartAfterCrash = async () => {
    store.revive();
    t = await t.restart();
    admin = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;
    const reconciled = await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin });
    expect(reconciled.body[0].metadata).toMatchObject({ orphanConnectionSecrets: 1 });
  };
  /** An admin connects an account: start, the provider's consent, its redirect to the daemon. */
  const connectAccount = async () => {
    const start = await t.request('POST', '/admin/connections/github/oauth/start', { token: admin });
    const consent = await fetch(new URL(start.body.authorization_url), { redirect: 'manual' });
    return fetch(consent.headers.get('location')!);
  };

  beforeAll(async () => {
    await oauth.issuer.keys.generate('RS256');
    await oauth.start(0, '127.0.0.1');
    oauth.service.on(
      'beforeResponse',
      (response: { body: Record<string, unknown> }, request: { body: Record<string, string> }) => {
        // Tokens that expire 31 s after issue: within the broker's 30 s margin after one second.
        response.body.expires_in = 31;
        issued.push({
          grant: request.body.grant_type!,
          refreshSent: request.body.refresh_token,
          clientSecret: request.body.client_secret,
          verifier: request.body.code_verifier,
          access_token: response.body.access_token as string,
          refresh_token: response.body.refresh_token as string,
        });
      },
    );
    // RFC 7009 revocation is form-encoded; the mock parses only JSON there, so the form is read here.
    oauth.service.on('beforeRevoke', (_response: unknown, request: NodeJS.ReadableStream) => {
      let form = '';
      request.on('data', (chunk: Buffer) => (form += chunk.toString()));
      request.on('end', () => revoked.push(new URLSearchParams(form).get('token') ?? ''));
    });
    upstream = createServer((request, response) => {
      seenAuthorization.push(request.headers.authorization ?? '');
      response.setHeader('content-type', 'application/json');
      response.end('{"login":"octocat"}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    ({ t, admin } = await startWithAdmin({ keychainService, secrets: store }));
    const issuer = oauth.issuer.url!;
    const created = await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'github',
        base_url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        oauth: {
          authorization_url: `${issuer}/authorize`,
          token_url: `${issuer}/token`,
          revocation_url: `${issuer}/revoke`,
          client_id: 'gatehouse-test',
          client_secret: 'client-secret-0f9e8d7c',
          scopes: ['repo', 'read:user'],
        },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.oauth).toMatchObject({ client_id: 'gatehouse-test', connected_at: null });
    expect(JSON.stringify(created.body)).not.toContain('client-secret-0f9e8d7c');
    connectionId = created.body.id;
    const agent = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'oauth-user', issue_key: true, allowed_tools: ['connection:github'] },
    });
    key = agent.body.agent_key.api_key;
  });
  afterAll(async () => {
    await oauth.stop();
    upstream.close();
    await t.dispose();
  });

  it('refuses calls until an account is connected', async () => {
    const refused = await broker(key);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('credentials_unrecoverable');
  });

  it("connects through the authorization code flow with PKCE, on the daemon's loopback callback", async () => {
    const start = await t.request('POST', '/admin/connections/github/oauth/start', { token: admin });
    expect(start.status).toBe(200);
    const authorize = new URL(start.body.authorization_url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.url}/connections/oauth/callback`);
    expect(authorize.searchParams.get('scope')).toBe('repo read:user');

    // The admin's browser: the provider redirects back to the daemon with a code.
    const consent = await fetch(authorize, { redirect: 'manual' });
    expect(consent.status).toBe(302);
    const callback = await fetch(consent.headers.get('location')!);
    expect(callback.status).toBe(200);
    expect(await callback.json()).toMatchObject({ connection: 'github' });
    expect(issued[0]).toMatchObject({ grant: 'authorization_code', clientSecret: 'client-secret-0f9e8d7c' });
    expect(issued[0]!.verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);

    // A state is good once.
    expect((await fetch(consent.headers.get('location')!)).status).toBe(400);

    expect(await refreshTokens()).toEqual([issued[0]!.refresh_token]);
    const listed = await t.request('GET', '/v1/connections/github', { token: admin });
    expect(listed.body.oauth.connected_at).not.toBeNull();
  });

  it('injects the access token, and refreshes it when it is about to expire', async () => {
    expect((await broker(key)).status).toBe(200);
    expect(seenAuthorization.at(-1)).toBe(`Bearer ${issued[0]!.access_token}`);
    const [connectedAccount] = await refreshTokenAccounts();

    await new Promise((resolve) => setTimeout(resolve, 1200));
    const calls = await Promise.all([broker(key), broker(key), broker(key)]);
    expect(calls.map((call) => call.status)).toEqual([200, 200, 200]);
    // One refresh for the three calls, with the refresh token from the keychain; the rotated one replaces it.
    expect(issued).toHaveLength(2);
    expect(issued[1]).toMatchObject({ grant: 'refresh_token', refreshSent: issued[0]!.refresh_token });
    expect(seenAuthorization.slice(-3)).toEqual(Array(3).fill(`Bearer ${issued[1]!.access_token}`));
    expect(await refreshTokens()).toEqual([issued[1]!.refresh_token]);
    // The rotated token went to an item of its own, never over the one the row was committed with.
    expect(await refreshTokenAccounts()).not.toContain(connectedAccount);
  });

  it('keeps a working connection when a rotating refresh dies between its keychain write and its commit', async () => {
    const before = (await t.request('GET', '/v1/connections/github', { token: admin })).body;
    const connected = issued.at(-1)!.refresh_token;
    const [connectedAccount] = await refreshTokenAccounts();
    // The access token is about to expire again: the next call refreshes, and the provider rotates.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    store.crashAfterNextWrite();
    expect((await broker(key)).status).toBeGreaterThanOrEqual(500);
    const newer = issued.at(-1)!.refresh_token;
    expect(issued.at(-1)).toMatchObject({ grant: 'refresh_token', refreshSent: connected });
    await restartAfterCrash();

    // The row as it was, its item still holding the token it was committed with; the new one's item is gone.
    expect((await t.request('GET', '/v1/connections/github', { token: admin })).body).toEqual(before);
    expect(await refreshTokenAccounts()).toEqual([connectedAccount]);
    expect(await refreshTokens()).toEqual([connected]);
    expect((await broker(key)).status).toBe(200);
    expect(issued.at(-1)).toMatchObject({ grant: 'refresh_token', refreshSent: connected });
    expect(issued.map((i) => i.refreshSent)).not.toContain(newer);
    expect(await refreshTokens()).toEqual([issued.at(-1)!.refresh_token]);
  });

  it('keeps the connected account when a reconnect dies between its keychain write and its commit, and replaces it when one completes', async () => {
    const before = (await t.request('GET', '/v1/connections/github', { token: admin })).body;
    const connected = issued.at(-1)!.refresh_token;

    store.crashAfterNextWrite();
    expect((await connectAccount()).status).toBe(500);
    const newer = issued.at(-1)!.refresh_token;
    await restartAfterCrash();

    // The row as it was, naming the token it was committed with; the new token's item is gone.
    expect((await t.request('GET', '/v1/connections/github', { token: admin })).body).toEqual(before);
    expect(await refreshTokens()).toEqual([connected]);
    // The broker still refreshes with the connected account's token.
    expect((await broker(key)).status).toBe(200);
    expect(issued.at(-1)).toMatchObject({ grant: 'refresh_token', refreshSent: connected });
    expect(issued.map((i) => i.refreshSent)).not.toContain(newer);

    const rotated = issued.at(-1)!.refresh_token;
    expect((await connectAccount()).status).toBe(200);
    expect(await refreshTokens()).toEqual([issued.at(-1)!.refresh_token]);
    expect(await refreshTokens()).not.toContain(rotated);
  });

  it('never writes the tokens to the database, the logs or the audit chain', async () => {
    await t.daemon.services.callAudit.flush();
    const files = readFiles([...(await databaseFiles(t)), join(t.home, 'logs', 'gatehoused.log')]);
    const chain = JSON.stringify((await t.request('GET', '/v1/audit?limit=200', { token: admin })).body);
    for (const token of issued.flatMap((i) => [i.access_token, i.refresh_token, 'client-secret-0f9e8d7c'])) {
      expect(chain).not.toContain(token);
      for (const [file, bytes] of files) {
        expect(bytes.toString('latin1').includes(token), file).toBe(false);
      }
    }
  });

  it('revokes the refresh token at the provider and forgets it', async () => {
    const revokedAnswer = await t.request('POST', '/admin/connections/github/oauth/revoke', { token: admin });
    expect(revokedAnswer.status).toBe(200);
    expect(revokedAnswer.body.oauth.connected_at).toBeNull();
    await expect.poll(() => revoked).toEqual([issued.at(-1)!.refresh_token]);
    expect(await refreshTokens()).toEqual([]);
    expect((await broker(key)).status).toBe(409);
  });
});
