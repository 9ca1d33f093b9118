import { sign } from 'node:crypto';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROKER_AUDIENCE, checksumOf } from '@gatehouse/shared';
import { LIMITED_ANSWER_DELAY_MS } from '../../domain/auth/auth-failures.js';
import { randomBase62 } from '../../domain/credentials.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

/** `GET /v1/whoami` with `apiKey` over `connection`: what came back, and on which socket. */
function onConnection(
  connection: Agent,
  url: string,
  apiKey: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: { code?: string }; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const sent = request(`${url}/v1/whoami`, { agent: connection, headers: { 'x-api-key': apiKey } }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          headers: response.headers,
          body: JSON.parse(text),
          socket: sent.socket!,
        }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

interface Issued {
  id: string;
  name: string;
  key: string;
}

/** The requests these tests repeat, against the daemon `d()` of the describe block using them. */
function agentRequests(d: () => { t: TestDaemon; admin: string }) {
  return {
    newAgent: async (name: string, scopes: string[] = []): Promise<Issued> => {
      const { t, admin } = d();
      const body = (await t.request('POST', '/admin/agents', { token: admin, body: { name, scopes, issue_key: true } }))
        .body;
      return { id: body.id, name, key: body.agent_key.api_key };
    },
    tokenFor: (agent: Issued) =>
      d().t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.key } }),
    whoami: (token: string) => d().t.request('GET', '/v1/whoami', { token }),
    privateKeyOf: async (agent: Issued) =>
      (await keytar.getPassword(d().t.keychainService, `agent-identity:${agent.id}`))!,
  };
}

describe('agent authentication', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const { newAgent, tokenFor, whoami } = agentRequests(() => ({ t, admin }));

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

  it('refuses a broker-bound token on the API every time, once its claims and agent are cached too', async () => {
    const agent = await newAgent('bound');
    expect((await whoami(agent.key)).status).toBe(200);
    const bound = await t.request('POST', '/v1/auth/token', {
      body: { agent_id: agent.id, secret: agent.key, audience: BROKER_AUDIENCE },
    });
    expect(bound.status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const refused = await whoami(bound.body.access_token);
      expect(refused.status).toBe(401);
      expect(refused.body.detail).toContain('only at the broker');
    }
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
    // One kept-alive connection, as a flood's: past the limit the refused request ends at once
    // and its connection's next request waits, so a flood keeps its connections waiting.
    const connection = new Agent({ keepAlive: true, maxSockets: 1 });
    const refused = Date.now();
    const limited = await onConnection(connection, t.url, sameprefix(key));
    expect(limited.status).toBe(429);
    expect(Date.now() - refused).toBeLessThan(LIMITED_ANSWER_DELAY_MS);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const asked = Date.now();
    const next = await onConnection(connection, t.url, key);
    expect(Date.now() - asked).toBeGreaterThanOrEqual(LIMITED_ANSWER_DELAY_MS - 10);
    expect(next.status).toBe(200);
    expect(next.socket).toBe(limited.socket);
    connection.destroy();
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

describe('agent authentication: identity, claims and the lifecycle', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const { newAgent, tokenFor, whoami, privateKeyOf } = agentRequests(() => ({ t, admin }));
  /** A viewer-role user with admin privilege on the default project: sees only the project's audit events. */
  let projectAdmin: string | null = null;
  const projectAdminToken = async (): Promise<string> => {
    if (!projectAdmin) {
      const user = (
        await t.request('POST', '/admin/users', {
          token: admin,
          body: { username: 'project-admin', password: 'a long enough password' },
        })
      ).body;
      const project = (await whoami(admin)).body.project;
      await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
        token: admin,
        body: { privilege: 1 },
      });
      projectAdmin = (await t.login('project-admin', 'a long enough password')).body.access_token;
    }
    return projectAdmin!;
  };
  const prove = async (agent: Issued, pem?: string) => {
    const { nonce } = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body;
    const signature = sign(null, Buffer.from(nonce, 'utf8'), pem ?? (await privateKeyOf(agent))).toString('base64');
    return t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce, signature } });
  };

  it('tells an agent who it is, with the same facts its token claims, and no secret', async () => {
    const agent = await newAgent('self-aware', ['notes:read']);
    const tokens = (await tokenFor(agent)).body;
    const jwks = createLocalJWKSet((await t.request('GET', '/.well-known/jwks.json')).body);
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: 'gatehouse' });

    const byToken = (await whoami(tokens.access_token)).body;
    const byKey = (await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': agent.key } })).body;
    for (const me of [byToken, byKey]) {
      expect(me).toMatchObject({
        principal: 'agent',
        agent: { id: agent.id, name: 'self-aware', status: 'active' },
        project: { id: payload.prj, slug: 'default' },
        scopes: ['notes:read'],
        tools: [],
        approval_required_tools: [],
        permissions_version: payload.pv,
      });
      const text = JSON.stringify(me);
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).not.toContain(agent.key.split('_')[2]);
    }
    expect(byToken.via).toBe('agent_token');
    expect(byKey.via).toBe('agent_key');
    expect(payload.sub).toBe(agent.id);
    expect(payload.iat! * 1000).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('refuses a token issued before the agent changed, and refreshes into one at the new version', async () => {
    const agent = await newAgent('changing', ['mail:read', 'mail:send']);
    const tokens = (await tokenFor(agent)).body;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ pv: 1, scopes: ['mail:read', 'mail:send'] });

    await t.request('PATCH', '/admin/agents/changing', { token: admin, body: { scopes: ['mail:read'] } });
    expect((await whoami(tokens.access_token)).status).toBe(401);

    const refreshed = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(decodeJwt(refreshed.body.access_token)).toMatchObject({ pv: 2, scopes: ['mail:read'] });
    expect((await whoami(refreshed.body.access_token)).body.scopes).toEqual(['mail:read']);
  });

  it('ends every session of an agent set to revoke_tokens when its permissions change', async () => {
    const agent = await newAgent('strict', ['mail:read', 'mail:send']);
    await t.request('PATCH', '/admin/agents/strict', { token: admin, body: { on_permission_change: 'revoke_tokens' } });
    const [first, second] = [(await tokenFor(agent)).body, (await tokenFor(agent)).body];

    await t.request('PATCH', '/admin/agents/strict', { token: admin, body: { scopes: ['mail:read'] } });
    for (const tokens of [first, second]) {
      expect((await whoami(tokens.access_token)).status).toBe(401);
      const refreshed = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
      expect(refreshed.status).toBe(401);
    }
    // Its key still works: it authenticates again and gets the new permissions.
    const again = (await tokenFor(agent)).body;
    expect((await whoami(again.access_token)).body.scopes).toEqual(['mail:read']);

    // A change made through the permissions (a grant) ends its sessions the same way.
    await t.request('POST', '/admin/tools', { token: admin, body: { name: 'strict_tool' } });
    await t.request('POST', '/admin/agents/strict/tools', { token: admin, body: { tools: ['strict_tool'] } });
    const refreshed = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: again.refresh_token } });
    expect(refreshed.status).toBe(401);

    // Each ending is in the audit log, by whom and why.
    const audit = await t.request('GET', `/v1/audit?event_type=agent.sessions_revoked&agent_id=${agent.id}`, {
      token: admin,
    });
    expect(audit.body).toHaveLength(2);
    expect(audit.body[0]).toMatchObject({
      actor: 'user:admin',
      metadata: { sessions_revoked: 1, reason: 'permissions changed' },
    });
    expect(audit.body[1].metadata).toMatchObject({ sessions_revoked: 2 });
  });

  it('refuses every way in once the agent is revoked for good', async () => {
    const agent = await newAgent('revoked-for-good');
    const tokens = (await tokenFor(agent)).body;
    await t.request('DELETE', `/v1/agents/${agent.id}`, { token: admin });

    expect((await whoami(tokens.access_token)).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })).status,
    ).toBe(401);
    expect((await tokenFor(agent)).status).toBe(401);
    expect((await prove(agent)).status).toBe(401);
    const exchanged = await t.request('POST', '/v1/agent-token', { token: admin, body: { agent: agent.id } });
    expect(exchanged.status).toBe(409);
  });

  it('refuses a suspended agent the challenge too, and lets it prove itself again once resumed', async () => {
    const agent = await newAgent('paused-prover');
    const pem = await privateKeyOf(agent);
    await t.request('POST', '/v1/agents/paused-prover/suspend', { token: admin });
    expect((await prove(agent, pem)).status).toBe(401);
    await t.request('POST', '/v1/agents/paused-prover/reactivate', { token: admin });
    const verified = await prove(agent, pem);
    expect(verified.status).toBe(200);
    expect((await whoami(verified.body.access_token)).body.agent.id).toBe(agent.id);
  });

  it('refuses a nonce that was never issued, one issued for another agent, and a malformed signature', async () => {
    const agent = await newAgent('strict-verifier');
    const other = await newAgent('strict-other');
    const pem = await privateKeyOf(agent);
    const signed = (nonce: string) => sign(null, Buffer.from(nonce, 'utf8'), pem).toString('base64');

    const invented = 'x'.repeat(43);
    expect(
      (
        await t.request('POST', '/v1/auth/verify', {
          body: { agent_id: agent.id, nonce: invented, signature: signed(invented) },
        })
      ).status,
    ).toBe(401);

    const forOther = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: other.id } })).body.nonce;
    expect(
      (
        await t.request('POST', '/v1/auth/verify', {
          body: { agent_id: agent.id, nonce: forOther, signature: signed(forOther) },
        })
      ).status,
    ).toBe(401);

    const mine = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body.nonce;
    expect(
      (await t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce: mine, signature: '!!!' } }))
        .status,
    ).toBe(401);

    // Each challenge is fresh.
    const a = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body.nonce;
    const b = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body.nonce;
    expect(a).not.toBe(b);
    expect(
      (await t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce: b, signature: signed(b) } }))
        .status,
    ).toBe(200);

    const audit = await t.request('GET', `/v1/audit?event_type=auth.failed&agent_id=${agent.id}`, { token: admin });
    expect(audit.body.map((e: { metadata: { reason: string } }) => e.metadata.reason)).toEqual(
      expect.arrayContaining(['bad_signature']),
    );
  });

  it('validates the bodies of the agent authentication routes', async () => {
    for (const [path, body] of [
      ['/v1/auth/token', { agent_id: 'x' }],
      ['/v1/auth/token', { agent_id: 'x', secret: 'y', extra: 1 }],
      ['/v1/auth/refresh', {}],
      ['/v1/auth/revoke', { token: '' }],
      ['/v1/auth/challenge', {}],
      ['/v1/auth/verify', { agent_id: 'x', nonce: 'y' }],
    ] as const) {
      const refused = await t.request('POST', path, { body });
      expect(refused.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
    }
  });

  it('keeps human and agent refresh tokens apart', async () => {
    const agent = await newAgent('no-mixing');
    const agentTokens = (await tokenFor(agent)).body;
    const human = (await t.login('admin', 'correct horse battery staple')).body;
    expect(
      (await t.request('POST', '/auth/refresh', { body: { refresh_token: agentTokens.refresh_token } })).status,
    ).toBe(401);
    expect((await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: human.refresh_token } })).status).toBe(
      401,
    );
    // A human's access token is not an agent session: nothing is revoked.
    expect((await t.request('POST', '/v1/auth/revoke', { body: { token: human.access_token } })).body).toEqual({
      revoked: false,
    });
    expect((await whoami(human.access_token)).status).toBe(200);
    // Both pairs still work.
    expect(
      (await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: agentTokens.refresh_token } })).status,
    ).toBe(200);
  });

  it('exchanges only for a known, active agent of the project, for an admin of that project', async () => {
    await newAgent('exchangeable');
    expect((await t.request('POST', '/v1/agent-token', { token: admin, body: { agent: 'nobody' } })).status).toBe(404);
    await t.request('POST', '/v1/agents/exchangeable/suspend', { token: admin });
    const suspended = await t.request('POST', '/v1/agent-token', { token: admin, body: { agent: 'exchangeable' } });
    expect(suspended.status).toBe(409);
    await t.request('POST', '/v1/agents/exchangeable/reactivate', { token: admin });

    const exchanged = (await t.request('POST', '/v1/agent-token', { token: admin, body: { agent: 'exchangeable' } }))
      .body;
    expect(exchanged).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect((await whoami(exchanged.access_token)).body.agent.name).toBe('exchangeable');
    // An agent token cannot exchange itself for another agent's.
    const byAgent = await t.request('POST', '/v1/agent-token', {
      token: exchanged.access_token,
      body: { agent: 'exchangeable' },
    });
    expect(byAgent.status).toBe(403);
    // The exchanged token is a session like any other: revocable.
    expect((await t.request('POST', '/v1/auth/revoke', { body: { token: exchanged.access_token } })).body).toEqual({
      revoked: true,
    });
    expect((await whoami(exchanged.access_token)).status).toBe(401);

    const user = (
      await t.request('POST', '/admin/users', {
        token: admin,
        body: { username: 'plain-member', password: 'a long enough password' },
      })
    ).body;
    const project = (await whoami(admin)).body.project;
    await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    const member = (await t.login('plain-member', 'a long enough password')).body.access_token;
    expect(
      (await t.request('POST', '/v1/agent-token', { token: member, body: { agent: 'exchangeable' } })).status,
    ).toBe(403);
  });

  it('records revoked agent sessions where the agent’s project admins can read them', async () => {
    const agent = await newAgent('watched');
    const projectAdmin = await projectAdminToken();

    const tokens = (await tokenFor(agent)).body;
    expect((await t.request('POST', '/v1/auth/revoke', { body: { token: tokens.refresh_token } })).body).toEqual({
      revoked: true,
    });
    // It is recorded (a user admin sees it), and must be in the agent's project like every other event of the agent.
    const global = await t.request('GET', `/v1/audit?event_type=auth.token_revoked&agent_id=${agent.id}`, {
      token: admin,
    });
    expect(global.body).toHaveLength(1);
    const issued = await t.request('GET', `/v1/audit?event_type=auth.token_issued&agent_id=${agent.id}`, {
      token: projectAdmin,
    });
    expect(issued.body).toHaveLength(1);
    const revoked = await t.request('GET', `/v1/audit?event_type=auth.token_revoked&agent_id=${agent.id}`, {
      token: projectAdmin,
    });
    expect(revoked.body).toHaveLength(1);
  });

  it('records failed authentications of a known agent where its project admins can read them', async () => {
    const agent = await newAgent('watched-failures');
    const projectAdmin = await projectAdminToken();
    const spare = (await t.request('POST', '/admin/agents/watched-failures/keys', { token: admin, body: {} })).body;
    await t.request('DELETE', `/admin/agents/watched-failures/keys/${spare.id}`, { token: admin });

    // A bad signature (verify knows the agent's project) …
    const { nonce } = (await t.request('POST', '/v1/auth/challenge', { body: { agent_id: agent.id } })).body;
    const wrongPem = await privateKeyOf(await newAgent('watched-impostor'));
    const forged = sign(null, Buffer.from(nonce), wrongPem).toString('base64');
    await t.request('POST', '/v1/auth/verify', { body: { agent_id: agent.id, nonce, signature: forged } });
    // … a revoked key presented as X-API-Key, and the same key at /v1/auth/token.
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': spare.api_key } })).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: spare.api_key } })).status,
    ).toBe(401);

    const seenBy = async (token: string) =>
      (await t.request('GET', `/v1/audit?event_type=auth.failed&agent_id=${agent.id}`, { token })).body
        .map((e: { metadata: { reason: string } }) => e.metadata.reason)
        .sort();
    expect(await seenBy(admin)).toEqual(['bad_signature', 'revoked', 'revoked']);
    expect(await seenBy(projectAdmin)).toEqual(['bad_signature', 'revoked', 'revoked']);
  });
});

describe('failed agent authentication at POST /v1/auth/token', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const sameprefix = (key: string) => {
    const unchecked = `${key.slice(0, 15)}${randomBase62(32)}`;
    return unchecked + checksumOf(unchecked);
  };
  const { newAgent } = agentRequests(() => ({ t, admin }));

  it('audits why: another agent’s key, a revoked key, a rotated-out key, garbage', async () => {
    const agent = await newAgent('audited-target');
    const other = await newAgent('audited-other');
    const token = (secret: string, agentId = agent.id) =>
      t.request('POST', '/v1/auth/token', { body: { agent_id: agentId, secret } });

    expect((await token(other.key)).status).toBe(401);
    const spare = (await t.request('POST', '/admin/agents/audited-target/keys', { token: admin, body: {} })).body;
    await t.request('DELETE', `/admin/agents/audited-target/keys/${spare.id}`, { token: admin });
    expect((await token(spare.api_key)).status).toBe(401);
    const firstKeyId = (await t.request('GET', '/v1/agents/audited-target/keys', { token: admin })).body.find(
      (k: { id: string }) => k.id !== spare.id,
    ).id;
    await t.request('POST', `/admin/agents/audited-target/keys/${firstKeyId}/rotate`, { token: admin, body: {} });
    expect((await token(agent.key)).status).toBe(401);
    expect((await token('not-a-key')).status).toBe(401);

    const audit = (await t.request('GET', '/v1/audit?event_type=auth.failed', { token: admin })).body;
    expect(audit.map((e: { metadata: { reason: string } }) => e.metadata.reason)).toEqual([
      'malformed',
      'rotated',
      'revoked',
      'key_of_another_agent',
    ]);
    expect(audit[3]).toMatchObject({ outcome: 'failure', agent_id: other.id, target: `key:${other.key.slice(6, 14)}` });
    const text = JSON.stringify(audit);
    for (const key of [agent.key, other.key, spare.api_key]) expect(text).not.toContain(key.split('_')[2]);
  });

  it('limits guesses against one key prefix with 429, while the real key still gets tokens', async () => {
    const agent = await newAgent('guessed');
    const guess = () =>
      t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: sameprefix(agent.key) } });
    for (let i = 0; i < 10; i++) expect((await guess()).status).toBe(401);
    const limited = await guess();
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const real = await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.key } });
    expect(real.status).toBe(200);
    expect((await t.request('GET', '/v1/whoami', { token: real.body.access_token })).status).toBe(200);
  });

  it('keeps valid credentials working when the source itself is limited', async () => {
    const agent = await newAgent('bystander');
    let limited = false;
    for (let i = 0; i < 40 && !limited; i++) {
      const unchecked = `agent_${randomBase62(8)}_${randomBase62(32)}`;
      const answer = await t.request('GET', '/v1/whoami', {
        headers: { 'x-api-key': unchecked + checksumOf(unchecked) },
      });
      limited = answer.status === 429;
    }
    expect(limited).toBe(true);
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': agent.key } })).status).toBe(200);
    expect(
      (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.key } })).status,
    ).toBe(200);
    expect((await t.request('GET', '/v1/agents', { token: admin })).status).toBe(200);
  });
});
