import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvedCode, exchangeCode } from '../testing/oauth-flow.js';
import { sql, sqlRows } from '../testing/sql.js';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

const verifier = () => randomBytes(32).toString('base64url');
const challengeOf = (v: string) => createHash('sha256').update(v).digest('base64url');

describe('the OAuth authorization server', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.dispose());

  const register = async (redirectUris: string[]) => {
    const response = await fetch(`${t.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Test client',
        redirect_uris: redirectUris,
        token_endpoint_auth_method: 'none',
      }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const authorize = (params: Record<string, string>) =>
    fetch(`${t.url}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: 'manual' });

  it('publishes Authorization Server Metadata (RFC 8414) with PKCE S256 only and iss in responses', async () => {
    const response = await fetch(`${t.url}/.well-known/oauth-authorization-server/oauth`);
    expect(response.status).toBe(200);
    const metadata = (await response.json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({
      issuer: `${t.url}/oauth`,
      authorization_endpoint: `${t.url}/oauth/authorize`,
      token_endpoint: `${t.url}/oauth/token`,
      registration_endpoint: `${t.url}/oauth/register`,
      revocation_endpoint: `${t.url}/oauth/revoke`,
      introspection_endpoint: `${t.url}/oauth/introspect`,
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      scopes_supported: expect.arrayContaining(['mcp:tools', 'offline_access']),
    });
    const jwks = (await (await fetch(metadata.jwks_uri as string)).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('registers a public client (RFC 7591), and a confidential one whose secret it keeps only as a hash', async () => {
    const { status, body } = await register(['http://127.0.0.1/callback']);
    expect(status).toBe(201);
    expect(body).toMatchObject({ client_id: expect.any(String), token_endpoint_auth_method: 'none' });
    expect(body).not.toHaveProperty('client_secret');
    const confidential = await fetch(`${t.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    expect(confidential.status).toBe(201);
    const { client_secret: secret } = (await confidential.json()) as { client_secret: string };
    expect(secret).toEqual(expect.any(String));
    const stored = await sqlRows<{ payload: string }>(t, `SELECT payload FROM oauth_records WHERE model = 'Client'`);
    const secrets = stored.map((row) => (JSON.parse(row.payload) as { client_secret?: string }).client_secret);
    expect(secrets).toContainEqual(expect.stringMatching(/^sha256:/));
    expect(JSON.stringify(stored)).not.toContain(secret);
  });

  it('sends an authorization request with PKCE S256 on a loopback port of its choosing to the console consent page', async () => {
    const { body: client } = await register(['http://127.0.0.1/callback']);
    const response = await authorize({
      client_id: client.client_id as string,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
      state: 'xyz',
      resource: `${t.url}/mcp`,
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/#\/oauth\/consent\/[\w-]+$/);
  });

  it('refuses a request without PKCE, with the plain method, or to an unregistered redirect URI', async () => {
    const { body: client } = await register(['http://127.0.0.1/callback']);
    const base = {
      client_id: client.client_id as string,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1:53124/callback',
      scope: 'mcp:tools',
      state: 'xyz',
    };
    const withoutPkce = await authorize(base);
    expect(withoutPkce.status).toBe(303);
    const refused = new URL(withoutPkce.headers.get('location')!);
    expect(refused.searchParams.get('error')).toBe('invalid_request');
    expect(refused.searchParams.get('iss')).toBe(`${t.url}/oauth`);
    expect(refused.searchParams.get('state')).toBe('xyz');

    const plain = await authorize({ ...base, code_challenge: verifier(), code_challenge_method: 'plain' });
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    // An unregistered redirect URI is never redirected to: the error is shown by the server.
    const elsewhere = await authorize({
      ...base,
      redirect_uri: 'http://127.0.0.1:53124/elsewhere',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
    });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get('location')).toBeNull();
    expect(await elsewhere.json()).toMatchObject({ error: 'invalid_redirect_uri' });
  });

  it('refuses a token for a resource other than the gateway (RFC 8707 invalid_target)', async () => {
    const { body: client } = await register(['http://127.0.0.1/callback']);
    const response = await authorize({
      client_id: client.client_id as string,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1/callback',
      code_challenge: challengeOf(verifier()),
      code_challenge_method: 'S256',
      scope: 'mcp:tools',
      resource: 'http://127.0.0.1:9/other',
    });
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target');
  });

  it('sweeps expired records when it next issues tokens', async () => {
    const admin = (await t.setupAdmin()).access_token;
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'assistant' } });
    await sql(
      t,
      `INSERT INTO oauth_records (model, id_hash, payload, expires_at) VALUES
         ('AccessToken', 'expired', '{}', 1), ('AccessToken', 'current', '{}', ${Math.floor(Date.now() / 1000) + 600})`,
    );
    const { clientId, code, verifier } = await approvedCode(t, admin, 'assistant');
    expect((await exchangeCode(t, clientId, code, verifier)).status).toBe(200);
    const kept = await sqlRows<{ id_hash: string }>(
      t,
      `SELECT id_hash FROM oauth_records WHERE id_hash IN ('expired', 'current')`,
    );
    expect(kept).toEqual([{ id_hash: 'current' }]);
  });
});

describe('failed authentications at the token endpoint', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  it('are audited and counted: a wrong client secret or code is answered 429 once one address has failed thirty times', async () => {
    const registered = await fetch(`${t.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    });
    const { client_id: clientId, client_secret: secret } = (await registered.json()) as Record<string, string>;
    const withSecret = (presented: string) =>
      fetch(`${t.url}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${clientId}:${presented}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'no-such-code',
          redirect_uri: 'http://127.0.0.1/cb',
        }),
      });

    // At the introspection endpoint too: the client authenticates there with its secret.
    const introspected = await fetch(`${t.url}/oauth/introspect`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${clientId}:not-the-secret`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: 'any' }),
    });
    expect(introspected.status).toBe(401);
    const audited = await t.request('GET', '/v1/audit?event_type=auth.failed', { token: admin });
    expect(audited.body).toEqual([expect.objectContaining({ metadata: { reason: 'oauth_invalid_client' } })]);

    const wrongSecret = await withSecret('not-the-secret');
    expect(wrongSecret.status).toBe(401);
    expect(((await wrongSecret.json()) as { error: string }).error).toBe('invalid_client');
    // The right secret with a code that does not exist: the grant is refused.
    const wrongCode = await withSecret(secret!);
    expect(wrongCode.status).toBe(400);
    expect(((await wrongCode.json()) as { error: string }).error).toBe('invalid_grant');

    const statuses: number[] = [];
    for (let i = 0; i < 30 && statuses.at(-1) !== 429; i++) statuses.push((await withSecret(`guess-${i}`)).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    const limited = await withSecret('one-more-guess');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });

    const audit = await t.request('GET', '/v1/audit?event_type=auth.failed&limit=100', { token: admin });
    const reasons = new Set(audit.body.map((entry: { metadata: { reason: string } }) => entry.metadata.reason));
    expect(reasons).toEqual(new Set(['oauth_invalid_client', 'oauth_invalid_grant']));
    expect(JSON.stringify(audit.body)).not.toContain(secret);
  });
});
