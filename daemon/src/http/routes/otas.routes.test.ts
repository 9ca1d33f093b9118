import { request as httpRequest } from 'node:http';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

/** A raw POST, so the test controls the Host header exactly (fetch always sets one). */
function rawPost(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

/** The OTAS seed (seeds/otas-create-agent.txt) run as its documentation shows it. */
describe('OTAS seed: login and POST /api/agent/v1/create/', () => {
  let t: TestDaemon;
  let jwt: string;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    const admin = (await t.setupAdmin()).access_token;
    projectId = (await t.request('GET', '/v1/whoami', { token: admin })).body.project.id;
    await t.request('PATCH', `/admin/users/${(await t.request('GET', '/v1/whoami', { token: admin })).body.user.id}`, {
      token: admin,
      body: { email: 'admin@example.com' },
    });
  });
  afterAll(() => t.dispose());

  const createAgent = (body: unknown, headers: Record<string, string> = {}) =>
    t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId, ...headers },
      body,
    });

  it('signs in by email and answers in the OTAS envelope', async () => {
    const login = await t.request('POST', '/api/user/v1/login/', {
      body: { email: 'admin@example.com', password: ADMIN.password },
    });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({
      status: 1,
      status_description: 'login_success',
      response: { user: { username: 'admin', email: 'admin@example.com' }, jwt_token: expect.any(String) },
    });
    jwt = login.body.response.jwt_token;

    const wrong = await t.request('POST', '/api/user/v1/login/', { body: { email: 'admin', password: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ status: 0, status_description: 'invalid_credentials' });
  });

  it('creates the agent and its first key exactly as the seed example', async () => {
    const created = await createAgent({
      agent_name: '  Summarizer ',
      agent_description: 'Summarizes long documents',
      agent_provider: 'Anthropic',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 1, status_description: 'agent_created' });
    const { agent, agent_key } = created.body.response;
    expect(Object.keys(agent).sort()).toEqual(
      ['created_at', 'created_by', 'description', 'id', 'name', 'project_id', 'provider'].sort(),
    );
    expect(agent).toMatchObject({
      name: 'Summarizer',
      description: 'Summarizes long documents',
      provider: 'Anthropic',
      project_id: projectId,
    });
    expect(Object.keys(agent_key).sort()).toEqual(
      ['active', 'agent_id', 'api_key', 'created_at', 'expires_at', 'id', 'prefix'].sort(),
    );
    expect(agent_key).toMatchObject({ agent_id: agent.id, active: true, prefix: agent_key.api_key.slice(6, 14) });
    expect(agent_key.api_key).toMatch(/^agent_[0-9A-Za-z]{8}_/);
    const days = (Date.parse(agent_key.expires_at) - Date.parse(agent_key.created_at)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    expect(await keytar.getPassword(t.keychainService, 'agent:default/Summarizer')).toBe(agent_key.api_key);
  });

  it('answers 400 agent_creation_failed for a missing field or a body that is not JSON', async () => {
    const missing = await createAgent({ agent_name: 'No provider' });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ status: 0, status_description: 'agent_creation_failed' });

    const notJson = await t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId, 'content-type': 'application/json' },
      raw: '{"agent_name": ',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({ status: 0, status_description: 'agent_creation_failed' });
  });

  it('answers 400 missing_headers, then invalid_token, then forbidden for a non-admin', async () => {
    const noHeaders = await t.request('POST', '/api/agent/v1/create/', {
      body: { agent_name: 'x', agent_provider: 'y' },
    });
    expect(noHeaders.status).toBe(400);
    expect(noHeaders.body).toEqual({ status: 0, status_description: 'missing_headers' });

    const badToken = await createAgent({ agent_name: 'x', agent_provider: 'y' }, { 'x-otas-user-token': 'forged' });
    expect(badToken.status).toBe(401);
    expect(badToken.body).toEqual({ status: 0, status_description: 'invalid_token' });

    const admin = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'member', password: 'a long enough password' },
    });
    const member = (await t.request('GET', '/admin/users?q=member', { token: admin })).body[0];
    await t.request('PUT', `/admin/projects/${projectId}/members/${member.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    const memberJwt = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: 'member', password: 'a long enough password' } })
    ).body.response.jwt_token;
    const forbidden = await createAgent({ agent_name: 'x', agent_provider: 'y' }, { 'x-otas-user-token': memberJwt });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({ status: 0, status_description: 'forbidden' });
  });

  it('answers 409 already_exists for a duplicate name', async () => {
    const again = await createAgent({ agent_name: 'Summarizer', agent_provider: 'Anthropic' });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ status: 0, status_description: 'already_exists' });
  });
});

describe('OTAS seed: the edges of login and agent creation', () => {
  let t: TestDaemon;
  let admin: string;
  let jwt: string;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    admin = (await t.setupAdmin()).access_token;
    projectId = (await t.request('GET', '/v1/whoami', { token: admin })).body.project.id;
    jwt = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: ADMIN.username, password: ADMIN.password } })
    ).body.response.jwt_token;
  });
  afterAll(() => t.dispose());

  const createAgent = (body: unknown, headers: Record<string, string> = {}) =>
    t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId, ...headers },
      body,
    });
  const failure = (status_description: string) => ({ status: 0, status_description });

  it('answers a malformed login with 400 login_failed, in the envelope', async () => {
    for (const body of [{ email: ADMIN.username }, { password: ADMIN.password }, { email: '', password: 'x' }]) {
      const refused = await t.request('POST', '/api/user/v1/login/', { body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body).toEqual(failure('login_failed'));
    }
    const notJson = await t.request('POST', '/api/user/v1/login/', {
      headers: { 'content-type': 'application/json' },
      raw: '{"email":',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual(failure('login_failed'));
  });

  it('returns a jwt_token that works as a Bearer token and as X-OTAS-USER-TOKEN', async () => {
    const bearer = await t.request('GET', '/v1/whoami', { token: jwt });
    expect(bearer.body).toMatchObject({ principal: 'user', user: { username: 'admin' } });
    const otas = await t.request('GET', '/v1/whoami', { headers: { 'x-otas-user-token': jwt } });
    expect(otas.status).toBe(200);
  });

  it('creates an agent without a description, and takes the project by slug as well as by id', async () => {
    const created = await createAgent(
      { agent_name: 'Bare', agent_provider: 'OpenAI' },
      { 'x-otas-project-id': 'default' },
    );
    expect(created.status).toBe(201);
    expect(created.body.response.agent).toMatchObject({
      name: 'Bare',
      description: null,
      provider: 'OpenAI',
      project_id: projectId,
      created_by: (await t.request('GET', '/v1/whoami', { token: admin })).body.user.id,
    });
  });

  it('gives a key that authenticates the agent, kept in the keychain and never listed again', async () => {
    const created = (await createAgent({ agent_name: 'Keyed', agent_provider: 'Anthropic' })).body.response;
    const { agent, agent_key } = created;
    expect(await keytar.getPassword(t.keychainService, `agent-key:${agent_key.id}`)).toBe(agent_key.api_key);

    const me = await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': agent_key.api_key } });
    expect(me.body).toMatchObject({
      principal: 'agent',
      agent: { id: agent.id, name: 'Keyed', provider: 'Anthropic' },
    });
    const tokens = await t.request('POST', '/v1/auth/token', {
      body: { agent_id: agent.id, secret: agent_key.api_key },
    });
    expect(tokens.status).toBe(200);

    const viaGateway = await t.request('GET', `/v1/agents/${agent.id}`, { token: admin });
    expect(viaGateway.body).toMatchObject({ name: 'Keyed', provider: 'Anthropic', status: 'active' });
    const keys = await t.request('GET', `/v1/agents/${agent.id}/keys`, { token: admin });
    expect(keys.body).toEqual([expect.objectContaining({ id: agent_key.id, prefix: agent_key.prefix, active: true })]);
    expect(JSON.stringify(keys.body)).not.toContain(agent_key.api_key);
  });

  it('answers 400 agent_creation_failed for names the gateway would refuse and for unknown fields', async () => {
    for (const body of [
      { agent_name: '   ', agent_provider: 'Anthropic' },
      { agent_name: 'a/b', agent_provider: 'Anthropic' },
      { agent_name: 'x'.repeat(65), agent_provider: 'Anthropic' },
      { agent_name: 'Fine', agent_provider: '' },
      { agent_name: 'Fine', agent_provider: 'Anthropic', agent_colour: 'red' },
      { agent_provider: 'Anthropic' },
      [],
    ]) {
      const refused = await createAgent(body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body).toEqual(failure('agent_creation_failed'));
    }
    const textBody = await t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId, 'content-type': 'text/plain' },
      raw: 'agent_name=Fine',
    });
    expect(textBody.status).toBe(400);
    expect(textBody.body).toEqual(failure('agent_creation_failed'));
    expect((await t.request('GET', '/v1/agents?q=Fine', { token: admin })).body).toEqual([]);
  });

  it('answers 400 missing_headers when either header is missing or empty, before anything else', async () => {
    const body = { agent_name: 'Headless', agent_provider: 'Anthropic' };
    const cases: Array<Record<string, string>> = [
      { 'x-otas-user-token': jwt },
      { 'x-otas-project-id': projectId },
      { 'x-otas-user-token': '', 'x-otas-project-id': projectId },
      { 'x-otas-user-token': 'forged', 'content-type': 'application/json' },
    ];
    for (const headers of cases) {
      const refused = await t.request('POST', '/api/agent/v1/create/', { headers, body });
      expect(refused.status, JSON.stringify(Object.keys(headers))).toBe(400);
      expect(refused.body).toEqual(failure('missing_headers'));
    }
    // A Bearer token does not stand in for X-OTAS-USER-TOKEN on this route.
    const bearerOnly = await t.request('POST', '/api/agent/v1/create/', {
      token: jwt,
      headers: { 'x-otas-project-id': projectId },
      body,
    });
    expect(bearerOnly.body).toEqual(failure('missing_headers'));
  });

  it('answers 401 invalid_token for a signed-out, tampered or agent-shaped token', async () => {
    const session = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: 'admin', password: ADMIN.password } })
    ).body.response.jwt_token;
    await t.request('POST', '/auth/logout', { token: session });
    const [header, payload, signature] = jwt.split('.');
    const flipped = signature!.slice(0, 10) + (signature![10] === 'A' ? 'B' : 'A') + signature!.slice(11);
    for (const token of [session, `${header}.${payload}.${flipped}`, 'agent_AAAAAAAA_AAAA']) {
      const refused = await createAgent(
        { agent_name: 'Nope', agent_provider: 'Anthropic' },
        { 'x-otas-user-token': token },
      );
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual(failure('invalid_token'));
    }
  });

  it('answers 403 forbidden for an agent key and for a user outside the project; 404 for an unknown project', async () => {
    const agentKey = (await createAgent({ agent_name: 'Caller', agent_provider: 'Anthropic' })).body.response.agent_key
      .api_key;
    const byAgent = await createAgent(
      { agent_name: 'Spawned', agent_provider: 'Anthropic' },
      {
        'x-otas-user-token': agentKey,
      },
    );
    expect(byAgent.status).toBe(403);
    expect(byAgent.body).toEqual(failure('forbidden'));

    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'stranger', password: 'a long enough password' },
    });
    const stranger = (
      await t.request('POST', '/api/user/v1/login/', {
        body: { email: 'stranger', password: 'a long enough password' },
      })
    ).body.response.jwt_token;
    const outside = await createAgent(
      { agent_name: 'Spawned', agent_provider: 'Anthropic' },
      {
        'x-otas-user-token': stranger,
      },
    );
    expect(outside.status).toBe(403);
    expect(outside.body).toEqual(failure('forbidden'));

    const unknown = await createAgent(
      { agent_name: 'Spawned', agent_provider: 'Anthropic' },
      {
        'x-otas-project-id': '4b7e2f1a-9c3d-4e8b-a012-3f5d6e7c8b9a',
      },
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual(failure('not_found'));
    expect((await t.request('GET', '/v1/agents?q=Spawned', { token: admin })).body).toEqual([]);
  });

  it('creates in the project the header names, for an admin of that project', async () => {
    const lab = (await t.request('POST', '/admin/projects', { token: admin, body: { name: 'OTAS Lab' } })).body;
    const created = await createAgent(
      { agent_name: 'Lab Agent', agent_provider: 'Anthropic' },
      {
        'x-otas-project-id': lab.id,
      },
    );
    expect(created.status).toBe(201);
    expect(created.body.response.agent.project_id).toBe(lab.id);
    expect(await keytar.getPassword(t.keychainService, `agent:${lab.slug}/Lab Agent`)).toBe(
      created.body.response.agent_key.api_key,
    );
    expect((await t.request('GET', '/v1/agents?q=Lab', { token: admin })).body).toEqual([]);
  });

  it('keeps the envelope for rate-limited sign-ins', async () => {
    let limited: { status: number; body: unknown; headers: Headers } | null = null;
    for (let i = 0; i < 30 && !limited; i++) {
      const answer = await t.request('POST', '/api/user/v1/login/', {
        body: { email: 'admin', password: `wrong ${i}` },
      });
      if (answer.status === 429) limited = answer;
      else expect(answer.body).toEqual(failure('invalid_credentials'));
    }
    expect(limited).not.toBeNull();
    expect(limited!.body).toEqual(failure('rate_limited'));
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
  });
  it('refuses a foreign Host or Origin with 403 in the OTAS envelope, not a 500', async () => {
    for (const path of ['/api/user/v1/login/', '/api/agent/v1/create/']) {
      const foreignHost = await rawPost(t.daemon.port, path, {
        host: `evil.example:${t.daemon.port}`,
        'content-type': 'application/json',
      });
      expect(foreignHost).toEqual({ status: 403, body: { status: 0, status_description: 'host_not_allowed' } });
      const foreignOrigin = await t.request('POST', path, { headers: { origin: 'https://evil.example' }, body: {} });
      expect(foreignOrigin.status).toBe(403);
      expect(foreignOrigin.body).toEqual({ status: 0, status_description: 'origin_not_allowed' });
    }
  });
});
