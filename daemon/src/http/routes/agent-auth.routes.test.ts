import { sign } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '../../../../shared/src/index.js';
import { randomBase62 } from '../../domain/credentials.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

interface Issued {
  id: string;
  name: string;
  key: string;
}

describe('agent authentication', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const newAgent = async (name: string, scopes: string[] = []): Promise<Issued> => {
    const body = (await t.request('POST', '/admin/agents', { token: admin, body: { name, scopes, issue_key: true } }))
      .body;
    return { id: body.id, name, key: body.agent_key.api_key };
  };
  const tokenFor = (agent: Issued) =>
    t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.key } });
  const whoami = (token: string) => t.request('GET', '/v1/whoami', { token });

  it('exchanges a key for tokens whose claims verify against the published JWKS', async () => {
    const agent = await newAgent('claims', ['papers:read']);
    const tokens = await tokenFor(agent);
    expect(tokens.status).toBe(200);
    expect(tokens.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(tokens.body.refresh_token).toMatch(/^ghr_/);

    const jwks = createLocalJWKSet((await t.request('GET', '/.well-known/jwks.json')).body);
    const { payload, protectedHeader } = await jwtVerify(tokens.body.access_token, jwks, { issuer: 'gatehouse' });
    expect(protectedHeader.alg).toBe('EdDSA');
    const project = (await whoami(admin)).body.project;
    expect(payload).toMatchObject({
      sub: agent.id,
      typ: 'agent',
      prj: project.id,
      sid: expect.any(String),
      scopes: ['papers:read'],
      tools: [],
      approval_tools: [],
      pv: 1,
    });
    expect(payload.exp! - payload.iat!).toBe(3600);

    const me = await whoami(tokens.body.access_token);
    expect(me.body).toMatchObject({
      principal: 'agent',
      via: 'agent_token',
      agent: { id: agent.id },
      scopes: ['papers:read'],
    });
  });

  it("refuses another agent's key, and does not say which part was wrong", async () => {
    const a = await newAgent('owner-a');
    const b = await newAgent('owner-b');
    const refused = await t.request('POST', '/v1/auth/token', { body: { agent_id: b.id, secret: a.key } });
    expect(refused.status).toBe(401);
    expect(refused.body.detail).not.toContain(a.key);
  });

  it('rotates refresh tokens; a reused one ends the whole session', async () => {
    const agent = await newAgent('refresher');
    const first = (await tokenFor(agent)).body;
    const second = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await whoami(second.body.access_token)).status).toBe(200);

    const reused = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(reused.status).toBe(401);
    // Whoever held the copy and whoever held the new token both lose the session.
    expect((await whoami(second.body.access_token)).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: second.body.refresh_token } })).status,
    ).toBe(401);
    const audit = await t.request('GET', '/v1/audit?event_type=auth.refresh_reused', { token: admin });
    expect(audit.body[0]).toMatchObject({ agent_id: agent.id, outcome: 'failure' });
  });

  it("keeps a key's narrower scopes through every refresh", async () => {
    const agent = await newAgent('narrow', ['files:read', 'files:write']);
    const key = (
      await t.request('POST', '/admin/agents/narrow/keys', { token: admin, body: { scopes: ['files:read'] } })
    ).body.api_key;
    const first = (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: key } })).body;
    expect(decodeJwt(first.access_token).scopes).toEqual(['files:read']);
    const refreshed = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(decodeJwt(refreshed.body.access_token).scopes).toEqual(['files:read']);
  });

  it('revokes a session by its access or refresh token; an unknown token is not an error', async () => {
    const agent = await newAgent('revoker');
    const byAccess = (await tokenFor(agent)).body;
    expect((await t.request('POST', '/v1/auth/revoke', { body: { token: byAccess.access_token } })).body).toEqual({
      revoked: true,
    });
    expect((await whoami(byAccess.access_token)).status).toBe(401);

    const byRefresh = (await tokenFor(agent)).body;
    await t.request('POST', '/v1/auth/revoke', { body: { token: byRefresh.refresh_token } });
    expect((await whoami(byRefresh.access_token)).status).toBe(401);
    expect((await t.request('POST', '/v1/auth/revoke', { body: { token: 'nonsense' } })).body).toEqual({
      revoked: false,
    });
  });

  it('keeps a revoked session revoked across a restart', async () => {
    const agent = await newAgent('restart-revoked');
    const tokens = (await tokenFor(agent)).body;
    await t.request('POST', '/v1/auth/revoke', { body: { token: tokens.access_token } });
    const restarted = await t.restart();
    Object.assign(t, restarted);
    expect((await t.request('GET', '/v1/whoami', { token: tokens.access_token })).status).toBe(401);
  });

  it('refuses the tokens of a suspended agent on the very next request, and of a renamed-away version', async () => {
    const agent = await newAgent('suspendable');
    const tokens = (await tokenFor(agent)).body;
    expect((await whoami(tokens.access_token)).status).toBe(200);
    await t.request('POST', '/v1/agents/suspendable/suspend', { token: admin });
    expect((await whoami(tokens.access_token)).status).toBe(401);
    expect((await tokenFor(agent)).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })).status,
    ).toBe(401);

    await t.request('POST', '/v1/agents/suspendable/reactivate', { token: admin });
    expect((await whoami((await tokenFor(agent)).body.access_token)).status).toBe(200);
  });

  it("proves possession: a nonce signed with the agent's private key from the keychain, once", async () => {
    const agent = await newAgent('prover');
    const privatePem = (await keytar.getPassword(t.keychainService, `agent-identity:${agent.id}`))!;
    const challenge = await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } });
    expect(challenge.body.nonce).toEqual(expect.any(String));
    expect(Date.parse(challenge.body.expires_at) - Date.now()).toBeGreaterThan(4 * 60_000);

    const signature = sign(null, Buffer.from(challenge.body.nonce, 'utf8'), privatePem).toString('base64');
    const body = { agent_id: agent.id, nonce: challenge.body.nonce, signature };
    const verified = await t.request('POST', '/v1/auth/verify', { body });
    expect(verified.status).toBe(200);
    expect(decodeJwt(verified.body.access_token).sub).toBe(agent.id);

    const replayed = await t.request('POST', '/v1/auth/verify', { body });
    expect(replayed.status).toBe(401);
  });

  it('refuses a signature by another key, and spends the nonce anyway', async () => {
    const agent = await newAgent('impostor-target');
    const other = await newAgent('impostor');
    const otherPem = (await keytar.getPassword(t.keychainService, `agent-identity:${other.id}`))!;
    const ownPem = (await keytar.getPassword(t.keychainService, `agent-identity:${agent.id}`))!;
    const { nonce } = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body;
    const forged = sign(null, Buffer.from(nonce), otherPem).toString('base64');
    expect(
      (await t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce, signature: forged } })).status,
    ).toBe(401);
    const genuine = sign(null, Buffer.from(nonce), ownPem).toString('base64');
    expect(
      (await t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce, signature: genuine } })).status,
    ).toBe(401);
  });

  it("exchanges a human's token for an agent token that names the human as actor", async () => {
    const agent = await newAgent('delegate');
    const exchanged = await t.request('POST', '/v1/agent-token', {
      token: admin,
      body: { agent: 'delegate', session_id: 'chat-42' },
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).not.toHaveProperty('refresh_token');
    const claims = decodeJwt(exchanged.body.access_token);
    const adminId = (await whoami(admin)).body.user.id;
    expect(claims).toMatchObject({ sub: agent.id, act: { sub: adminId } });
    expect((await whoami(exchanged.body.access_token)).body.agent.name).toBe('delegate');

    const audit = await t.request('GET', `/v1/audit?event_type=auth.token_issued&agent_id=${agent.id}`, {
      token: admin,
    });
    expect(audit.body[0].metadata).toMatchObject({ via: 'user_exchange', session_note: 'chat-42' });
  });

  it('keeps agents away from admin routes', async () => {
    const agent = await newAgent('not-an-admin');
    const refused = await t.request('POST', '/admin/agents', {
      headers: { 'x-api-key': agent.key },
      body: { name: 'spawned' },
    });
    expect([401, 403]).toContain(refused.status);
  });

  it('writes last_auth_at in a batch, at the latest on shutdown', async () => {
    const agent = await newAgent('last-auth');
    await tokenFor(agent);
    expect((await t.request('GET', '/v1/agents/last-auth', { token: admin })).body.last_auth_at).toBeNull();
    const restarted = await t.restart();
    Object.assign(t, restarted);
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    const after = await t.request('GET', '/v1/agents/last-auth', { token: admin });
    expect(Date.now() - Date.parse(after.body.last_auth_at)).toBeLessThan(60_000);
  });
});

describe('failed agent authentication', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  /** A well-formed key (valid checksum) with the prefix of `key` but another secret part. */
  const sameprefix = (key: string) => {
    const unchecked = `${key.slice(0, 15)}${randomBase62(32)}`;
    return unchecked + checksumOf(unchecked);
  };

  it('is audited, and limited per key prefix with 429 while the real key still works', async () => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'target', issue_key: true },
    });
    const key: string = created.body.agent_key.api_key;
    const asAgent = (apiKey: string) => t.request('GET', '/v1/whoami', { headers: { 'x-api-key': apiKey } });

    for (let i = 0; i < 10; i++) expect((await asAgent(sameprefix(key))).status).toBe(401);
    const limited = await asAgent(sameprefix(key));
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await asAgent(key)).status).toBe(200);

    const audit = await t.request('GET', '/v1/audit?event_type=auth.failed', { token: admin });
    expect(audit.body.length).toBeGreaterThanOrEqual(10);
    // The failure that reached the limit says so; the refusals after it are not audited one by one.
    expect(audit.body[0]).toMatchObject({
      target: `key:${key.slice(6, 14)}`,
      metadata: { reason: 'unknown_key', rate_limited_for_seconds: expect.any(Number) },
    });
    expect(JSON.stringify(audit.body)).not.toContain(key.slice(15));
  });

  it('is limited per source for keys that do not exist', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      const unchecked = `agent_${randomBase62(8)}_${randomBase62(32)}`;
      statuses.push(
        (await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': unchecked + checksumOf(unchecked) } })).status,
      );
    }
    expect(statuses).toContain(429);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
  });
});
