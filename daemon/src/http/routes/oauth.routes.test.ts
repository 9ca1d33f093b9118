import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeCode, REDIRECT_URI, startAuthorization, tokenRequest } from '../../testing/oauth-flow.js';
import { sqlRows } from '../../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

const ALL_ON = { pre_registered_clients: true, dynamic_registration: true, client_id_metadata_documents: true };

describe('OAuth client registration, as the admin switches it', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'assistant' } });
  });
  afterAll(() => t.dispose());

  const dynamicRegistration = () =>
    fetch(`${t.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'IDE',
        redirect_uris: ['http://127.0.0.1/cb'],
        token_endpoint_auth_method: 'none',
      }),
    });

  it('has every way on by default, and switches Dynamic Client Registration off and on again (audited)', async () => {
    expect((await t.request('GET', '/admin/oauth/registration', { token: admin })).body).toEqual(ALL_ON);
    const off = await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { ...ALL_ON, dynamic_registration: false },
    });
    expect(off.status).toBe(200);
    const refused = await dynamicRegistration();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'access_denied' });

    await t.request('PUT', '/admin/oauth/registration', { token: admin, body: ALL_ON });
    expect((await dynamicRegistration()).status).toBe(201);
    const audit = await t.request('GET', '/v1/audit?event_type=oauth.registration_policy_changed', { token: admin });
    expect(audit.body).toHaveLength(2);
  });

  it('fetches Client ID Metadata Documents only while the admin allows them', async () => {
    const asMetadataDocumentClient = () =>
      fetch(
        `${t.url}/oauth/authorize?${new URLSearchParams({
          client_id: 'https://client.example/oauth/metadata.json',
          response_type: 'code',
          redirect_uri: 'https://client.example/callback',
          code_challenge: 'x'.repeat(43),
          code_challenge_method: 'S256',
        })}`,
        { redirect: 'manual' },
      );
    const policy = (client_id_metadata_documents: boolean) =>
      t.request('PUT', '/admin/oauth/registration', {
        token: admin,
        body: { ...ALL_ON, client_id_metadata_documents },
      });
    const metadata = await (await fetch(`${t.url}/.well-known/oauth-authorization-server/oauth`)).json();
    expect(metadata).toMatchObject({ client_id_metadata_document_supported: true });

    await policy(false);
    const off = await asMetadataDocumentClient();
    expect(await off.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringContaining('not allowed'),
    });
    await policy(true);
    // Allowed, the server goes to fetch the document (which this offline machine cannot reach).
    const on = await asMetadataDocumentClient();
    expect(await on.json()).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringContaining('fetch failed'),
    });
  });

  it('refuses a policy with a missing or unknown field', async () => {
    const refused = await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { dynamic_registration: false },
    });
    expect(refused).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  });

  it('lets an admin pre-register a client that works while Dynamic Client Registration is off', async () => {
    await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { pre_registered_clients: true, dynamic_registration: false, client_id_metadata_documents: false },
    });
    const created = await t.request('POST', '/admin/oauth/clients', {
      token: admin,
      body: { client_name: 'Desktop assistant', redirect_uris: ['http://127.0.0.1/callback'] },
    });
    expect(created.status).toBe(201);
    const clientId = created.body.client_id as string;
    const pending = await startAuthorization(t, clientId);
    const shown = await t.request('GET', `/admin/oauth/requests/${pending.uid}`, { token: admin });
    expect(shown.body).toMatchObject({ client_name: 'Desktop assistant', redirect_uri: REDIRECT_URI });
    const approved = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
      token: admin,
      body: { agent: 'assistant' },
    });
    const code = (await pending.resume(approved.body.redirect_to)).searchParams.get('code')!;
    expect((await exchangeCode(t, clientId, code, pending.verifier)).status).toBe(200);

    const badUri = await t.request('POST', '/admin/oauth/clients', {
      token: admin,
      body: { client_name: 'Bad', redirect_uris: ['not a uri'] },
    });
    expect(badUri).toMatchObject({ status: 400, body: { code: 'validation_failed' } });
  });

  it('pre-registers a confidential client whose secret is shown once, stored as a hash, and required at the token endpoint', async () => {
    const created = await t.request('POST', '/admin/oauth/clients', {
      token: admin,
      body: { client_name: 'Team service', redirect_uris: ['http://127.0.0.1/callback'], confidential: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      client_name: 'Team service',
      confidential: true,
      client_secret: expect.stringMatching(/^[\w-]{43}$/),
    });
    const { client_id: clientId, client_secret: secret } = created.body as { client_id: string; client_secret: string };
    const stored = JSON.stringify(await sqlRows(t, `SELECT payload FROM oauth_records WHERE model = 'Client'`));
    expect(stored).not.toContain(secret);

    const listed = await t.request('GET', '/admin/oauth/clients', { token: admin });
    expect(listed.body.find((client: { client_id: string }) => client.client_id === clientId)).toEqual({
      client_id: clientId,
      client_name: 'Team service',
      redirect_uris: ['http://127.0.0.1/callback'],
      confidential: true,
      created_at: expect.any(String),
    });
    expect(JSON.stringify(listed.body)).not.toContain(secret);

    const codeFor = async () => {
      const pending = await startAuthorization(t, clientId);
      const approved = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
        token: admin,
        body: { agent: 'assistant' },
      });
      return { code: (await pending.resume(approved.body.redirect_to)).searchParams.get('code')!, pending };
    };
    const redeem = async (code: string, verifier: string, authorization?: string) => {
      const response = await fetch(`${t.url}/oauth/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: REDIRECT_URI,
          resource: `${t.url}/mcp`,
          ...(authorization ? {} : { client_id: clientId }),
        }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const basic = (password: string) => `Basic ${Buffer.from(`${clientId}:${password}`).toString('base64')}`;

    const first = await codeFor();
    expect(await redeem(first.code, first.pending.verifier)).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    const second = await codeFor();
    // The stored hash is no secret: presented, it is refused like any wrong one.
    const hash = /sha256:[\w-]+/.exec(stored)![0];
    expect(await redeem(second.code, second.pending.verifier, basic(hash))).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    const third = await codeFor();
    expect(await redeem(third.code, third.pending.verifier, basic(secret))).toMatchObject({
      status: 200,
      body: { access_token: expect.any(String) },
    });
  });

  it('deletes a pre-registered client, ending its tokens (audited); an unknown or dynamically registered one is 404', async () => {
    const created = await t.request('POST', '/admin/oauth/clients', {
      token: admin,
      body: { client_name: 'Short-lived', redirect_uris: ['http://127.0.0.1/callback'] },
    });
    const clientId = created.body.client_id as string;
    const pending = await startAuthorization(t, clientId);
    const approved = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
      token: admin,
      body: { agent: 'assistant' },
    });
    const code = (await pending.resume(approved.body.redirect_to)).searchParams.get('code')!;
    const tokens = (await exchangeCode(t, clientId, code, pending.verifier)).body;
    const mcp = () =>
      fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      });
    expect((await mcp()).status).not.toBe(401);

    expect((await t.request('DELETE', `/admin/oauth/clients/${clientId}`, { token: admin })).status).toBe(204);
    expect((await mcp()).status).toBe(401);
    const refreshed = await tokenRequest(t, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: tokens.refresh_token,
    });
    expect(refreshed.body).toMatchObject({ error: 'invalid_client' });
    const listed = await t.request('GET', '/admin/oauth/clients', { token: admin });
    expect(listed.body.map((client: { client_id: string }) => client.client_id)).not.toContain(clientId);
    const audit = await t.request('GET', '/v1/audit?event_type=oauth.client_deleted', { token: admin });
    expect(audit.body).toMatchObject([{ target: clientId }]);

    expect(await t.request('DELETE', `/admin/oauth/clients/${clientId}`, { token: admin })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    await t.request('PUT', '/admin/oauth/registration', { token: admin, body: ALL_ON });
    const dynamic = (await (await dynamicRegistration()).json()) as { client_id: string };
    expect((await t.request('DELETE', `/admin/oauth/clients/${dynamic.client_id}`, { token: admin })).status).toBe(404);
  });

  it('refuses pre-registered clients while they are switched off, and registering new ones', async () => {
    await t.request('PUT', '/admin/oauth/registration', { token: admin, body: ALL_ON });
    const created = await t.request('POST', '/admin/oauth/clients', {
      token: admin,
      body: { client_name: 'Switched', redirect_uris: ['http://127.0.0.1/callback'] },
    });
    const clientId = created.body.client_id as string;
    await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { ...ALL_ON, pre_registered_clients: false },
    });
    await expect(startAuthorization(t, clientId)).rejects.toThrow(/invalid_client/);
    expect(
      await t.request('POST', '/admin/oauth/clients', {
        token: admin,
        body: { client_name: 'Another', redirect_uris: ['http://127.0.0.1/callback'] },
      }),
    ).toMatchObject({ status: 409, body: { code: 'conflict' } });

    await t.request('PUT', '/admin/oauth/registration', { token: admin, body: ALL_ON });
    expect((await startAuthorization(t, clientId)).uid).toEqual(expect.any(String));
  });
});
