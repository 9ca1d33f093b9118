import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeCode, REDIRECT_URI, startAuthorization } from '../../testing/oauth-flow.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

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
    expect((await t.request('GET', '/admin/oauth/registration', { token: admin })).body).toEqual({
      dynamic_registration: true,
      client_id_metadata_documents: true,
    });
    const off = await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { dynamic_registration: false, client_id_metadata_documents: true },
    });
    expect(off.status).toBe(200);
    const refused = await dynamicRegistration();
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'access_denied' });

    await t.request('PUT', '/admin/oauth/registration', {
      token: admin,
      body: { dynamic_registration: true, client_id_metadata_documents: true },
    });
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
        body: { dynamic_registration: true, client_id_metadata_documents },
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
      body: { dynamic_registration: false, client_id_metadata_documents: false },
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
});
