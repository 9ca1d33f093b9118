import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  approvedCode,
  exchangeCode,
  REDIRECT_URI,
  registerClient,
  startAuthorization,
  tokenRequest,
} from '../testing/oauth-flow.js';
import { sql } from '../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

describe('consent on the OAuth authorization server', () => {
  let t: TestDaemon;
  let admin: string;
  let agentId: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    agentId = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'assistant' } })).body.id;
  });
  afterAll(() => t.dispose());

  const auditOf = async (eventType: string) =>
    (await t.request('GET', `/v1/audit?event_type=${eventType}`, { token: admin })).body as Record<string, any>[];

  it('shows the admin the client, its redirect URI and the scopes it asks for', async () => {
    const clientId = await registerClient(t);
    const pending = await startAuthorization(t, clientId);
    const shown = await t.request('GET', `/admin/oauth/requests/${pending.uid}`, { token: admin });
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({
      client_id: clientId,
      client_name: 'Test client',
      redirect_uri: REDIRECT_URI,
      scopes: ['mcp:tools', 'offline_access'],
      resource: `${t.url}/mcp`,
    });
    expect((await t.request('GET', `/admin/oauth/requests/${pending.uid}`)).status).toBe(401);
    expect((await t.request('GET', '/admin/oauth/requests/no-such-request', { token: admin })).status).toBe(404);
  });

  it("issues, after approval, the chosen agent's tokens for the gateway, and audits consent and issuance", async () => {
    const { clientId, code, verifier } = await approvedCode(t, admin, 'assistant');
    const tokens = await exchangeCode(t, clientId, code, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
    const access = await t.daemon.services.oauth.verifyAccessToken(tokens.body.access_token as string);
    expect(access).toMatchObject({ agent: { id: agentId }, clientId, scopes: ['mcp:tools'] });
    expect(tokens.body.refresh_token).toEqual(expect.any(String));

    const consent = (await auditOf('oauth.consent_granted')).find((e) => e.target === clientId);
    expect(consent).toMatchObject({ agent_id: agentId, actor: 'user:admin' });
    const issued = (await auditOf('oauth.token_issued')).find((e) => e.target === clientId);
    expect(issued).toMatchObject({ agent_id: agentId });
    // The audit chain holds no token, code or verifier.
    const everything = JSON.stringify(await auditOf('oauth.*'));
    for (const secret of [tokens.body.access_token, tokens.body.refresh_token, code, verifier]) {
      expect(everything).not.toContain(secret);
    }
  });

  const form = (path: string, params: Record<string, string>) =>
    fetch(`${t.url}/oauth/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params),
    });

  // oidc-provider's default policies let any confidential client see or revoke another's tokens,
  // and print a notice on the daemon's stdout each time they are asked.
  it("keeps a client's tokens to that client: another can neither introspect nor revoke them", async () => {
    const notices = vi.spyOn(console, 'info');
    try {
      const first = await approvedCode(t, admin, 'assistant');
      const token = (await exchangeCode(t, first.clientId, first.code, first.verifier)).body.access_token as string;
      const other = (await approvedCode(t, admin, 'assistant')).clientId;
      expect(await (await form('introspect', { token, client_id: other })).json()).toEqual({ active: false });
      await form('revoke', { token, client_id: other });
      expect(await (await form('introspect', { token, client_id: first.clientId })).json()).toMatchObject({
        active: true,
      });
    } finally {
      notices.mockRestore();
    }
  });

  it('introspects a token for its client (RFC 7662): active with its audience, and inactive once revoked', async () => {
    const { clientId, code, verifier } = await approvedCode(t, admin, 'assistant');
    const tokens = await exchangeCode(t, clientId, code, verifier);
    const token = tokens.body.access_token as string;
    const active = await (await form('introspect', { token, client_id: clientId })).json();
    expect(active).toMatchObject({ active: true, aud: `${t.url}/mcp`, sub: agentId, client_id: clientId });
    expect((await form('revoke', { token, client_id: clientId })).status).toBe(200);
    expect(await (await form('introspect', { token, client_id: clientId })).json()).toEqual({ active: false });
  });

  it('answers a replayed code with invalid_grant and revokes what the first exchange issued', async () => {
    const { clientId, code, verifier } = await approvedCode(t, admin, 'assistant');
    const first = await exchangeCode(t, clientId, code, verifier);
    expect(first.status).toBe(200);
    const replay = await exchangeCode(t, clientId, code, verifier);
    expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const refresh = await tokenRequest(t, {
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: first.body.refresh_token,
    });
    expect(refresh).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses a code with the wrong PKCE verifier', async () => {
    const { clientId, code } = await approvedCode(t, admin, 'assistant');
    const wrong = await exchangeCode(t, clientId, code, 'x'.repeat(43));
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('refuses an expired code, an expired refresh token and a revoked one with invalid_grant', async () => {
    // Makes a stored code or token past its expiry, found as the store finds it: by its hash.
    const expire = (model: string, id: string) =>
      sql(
        t,
        `UPDATE oauth_records SET expires_at = 1
         WHERE model = '${model}' AND id_hash = '${createHash('sha256').update(id).digest('base64url')}'`,
      );
    const refresh = (clientId: string, token: string) =>
      tokenRequest(t, { grant_type: 'refresh_token', client_id: clientId, refresh_token: token });

    const stale = await approvedCode(t, admin, 'assistant');
    await expire('AuthorizationCode', stale.code);
    expect(await exchangeCode(t, stale.clientId, stale.code, stale.verifier)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });

    const aging = await approvedCode(t, admin, 'assistant');
    const aged = await exchangeCode(t, aging.clientId, aging.code, aging.verifier);
    await expire('RefreshToken', aged.body.refresh_token as string);
    expect(await refresh(aging.clientId, aged.body.refresh_token as string)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });

    const revoking = await approvedCode(t, admin, 'assistant');
    const issued = await exchangeCode(t, revoking.clientId, revoking.code, revoking.verifier);
    const revocation = await fetch(`${t.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: issued.body.refresh_token as string, client_id: revoking.clientId }),
    });
    expect(revocation.status).toBe(200);
    expect(await refresh(revoking.clientId, issued.body.refresh_token as string)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  it('rotates refresh tokens; presenting a used one revokes the chain', async () => {
    const { clientId, code, verifier } = await approvedCode(t, admin, 'assistant');
    const first = await exchangeCode(t, clientId, code, verifier);
    const refresh = (token: string) =>
      tokenRequest(t, { grant_type: 'refresh_token', client_id: clientId, refresh_token: token });
    const second = await refresh(first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(await t.daemon.services.oauth.verifyAccessToken(second.body.access_token as string)).toHaveProperty('agent');
    expect(await refresh(first.body.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(await refresh(second.body.refresh_token)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('sends access_denied (with state and iss) to the client when the admin denies, and audits it', async () => {
    const clientId = await registerClient(t);
    const pending = await startAuthorization(t, clientId);
    const denied = await t.request('POST', `/admin/oauth/requests/${pending.uid}/deny`, { token: admin });
    expect(denied.status).toBe(200);
    const back = await pending.resume(denied.body.redirect_to);
    expect(back.origin + back.pathname).toBe(REDIRECT_URI);
    expect(Object.fromEntries(back.searchParams)).toMatchObject({
      error: 'access_denied',
      state: 'state-123',
      iss: `${t.url}/oauth`,
    });
    expect((await auditOf('oauth.consent_denied')).some((e) => e.target === clientId)).toBe(true);
  });

  it('approves as an agent it creates for the client', async () => {
    const clientId = await registerClient(t);
    const pending = await startAuthorization(t, clientId);
    const approved = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
      token: admin,
      body: { agent: 'made-for-client', create_agent: true },
    });
    expect(approved.status).toBe(200);
    const created = await t.request('GET', '/v1/agents/made-for-client', { token: admin });
    expect(created.status).toBe(200);
    const code = (await pending.resume(approved.body.redirect_to)).searchParams.get('code')!;
    const tokens = await exchangeCode(t, clientId, code, pending.verifier);
    const access = await t.daemon.services.oauth.verifyAccessToken(tokens.body.access_token as string);
    expect(access).toMatchObject({ agent: { id: created.body.id } });
  });

  it('refuses to approve as a suspended agent or an unknown one', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'benched' } });
    await t.request('POST', '/admin/agents/benched/revoke', { token: admin });
    const clientId = await registerClient(t);
    const pending = await startAuthorization(t, clientId);
    const suspended = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
      token: admin,
      body: { agent: 'benched' },
    });
    expect(suspended).toMatchObject({ status: 409, body: { code: 'conflict' } });
    const unknown = await t.request('POST', `/admin/oauth/requests/${pending.uid}/approve`, {
      token: admin,
      body: { agent: 'nobody' },
    });
    expect(unknown.status).toBe(404);
  });
});
