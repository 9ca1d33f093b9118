import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

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
