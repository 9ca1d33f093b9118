import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

const failure = (status_description: string) => ({ status: 0, status_description });

/** OTAS's API around its create page (agents/views.py, users/views.py, decorators.py), as an OTAS client calls it. */
describe('OTAS user, agent and session routes', () => {
  let t: TestDaemon;
  let jwt: string;
  let projectId: string;
  let apiKey: string;
  let agentId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    const admin = (await t.setupAdmin()).access_token;
    const whoami = (await t.request('GET', '/v1/whoami', { token: admin })).body;
    projectId = whoami.project.id;
    await t.request('PATCH', `/admin/users/${whoami.user.id}`, { token: admin, body: { email: 'admin@example.com' } });
    jwt = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: 'admin@example.com', password: ADMIN.password } })
    ).body.response.jwt_token;
    const created = await t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId },
      body: { agent_name: 'Summarizer', agent_provider: 'Anthropic' },
    });
    apiKey = created.body.response.agent_key.api_key;
    agentId = created.body.response.agent.id;
  });
  afterAll(() => t.dispose());

  describe('POST /api/user/v1/authenticate/', () => {
    it('answers who the token belongs to', async () => {
      const answer = await t.request('POST', '/api/user/v1/authenticate/', { headers: { 'x-otas-user-token': jwt } });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        status: 1,
        status_description: 'user_authenticated',
        response_body: { user: { username: 'admin', email: 'admin@example.com', created_at: expect.any(String) } },
      });
    });

    it('answers 400 missing_token without the header and 401 invalid_token for a bad one', async () => {
      const missing = await t.request('POST', '/api/user/v1/authenticate/');
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('missing_token'));
      const bad = await t.request('POST', '/api/user/v1/authenticate/', { headers: { 'x-otas-user-token': 'nope' } });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual(failure('invalid_token'));
    });
  });

  describe('GET /api/agent/v1/list/', () => {
    it("lists the project's agents with their keys and is_active, never a key itself", async () => {
      const answer = await t.request('GET', '/api/agent/v1/list/', {
        headers: { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 1, status_description: 'agents_listed' });
      expect(answer.body.response.project_id).toBe(projectId);
      const [agent] = answer.body.response.agents;
      expect(agent).toMatchObject({ id: agentId, name: 'Summarizer', provider: 'Anthropic', is_active: true });
      expect(agent.agent_keys).toHaveLength(1);
      expect(Object.keys(agent.agent_keys[0]).sort()).toEqual(
        ['active', 'created_at', 'expires_at', 'id', 'name', 'prefix'].sort(),
      );
      expect(agent.agent_keys[0]).toMatchObject({ prefix: apiKey.slice(6, 14), active: true });
      expect(JSON.stringify(answer.body)).not.toContain(apiKey);
    });

    it('answers 400 missing_headers without the project and 401 invalid_token for a bad token', async () => {
      const missing = await t.request('GET', '/api/agent/v1/list/', { headers: { 'x-otas-user-token': jwt } });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('missing_headers'));
      const bad = await t.request('GET', '/api/agent/v1/list/', {
        headers: { 'x-otas-user-token': 'nope', 'x-otas-project-id': projectId },
      });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual(failure('invalid_token'));
    });
  });

  describe('POST /api/agent/v1/session/create/', () => {
    it('signs the agent in with X-OTAS-AGENT-KEY and answers a jwt_token that acts as the agent', async () => {
      const answer = await t.request('POST', '/api/agent/v1/session/create/', {
        headers: { 'x-otas-agent-key': apiKey },
        body: { meta: { host: 'worker-1' } },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        status: 1,
        status_description: 'agent_session_created',
        response: { Header_value: 'X-OTAS-AGENT-SESSION-TOKEN', jwt_token: expect.any(String) },
      });
      const whoami = await t.request('GET', '/v1/whoami', { token: answer.body.response.jwt_token });
      expect(whoami.status).toBe(200);
      expect(whoami.body.agent.id).toBe(agentId);
    });

    it('takes an empty body, as OTAS does', async () => {
      const answer = await t.request('POST', '/api/agent/v1/session/create/', {
        headers: { 'x-otas-agent-key': apiKey },
      });
      expect(answer.status).toBe(200);
    });

    it('answers 401 invalid_agent_key for a missing, wrong or malformed key', async () => {
      for (const headers of [
        {},
        { 'x-otas-agent-key': `${apiKey.slice(0, -2)}xx` },
        { 'x-otas-agent-key': 'not-a-key' },
      ] as Array<Record<string, string>>) {
        const answer = await t.request('POST', '/api/agent/v1/session/create/', { headers, body: {} });
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual(failure('invalid_agent_key'));
      }
    });

    it('answers 400 invalid_json for a body that is not JSON', async () => {
      const answer = await t.request('POST', '/api/agent/v1/session/create/', {
        headers: { 'x-otas-agent-key': apiKey, 'content-type': 'application/json' },
        raw: '{"meta": ',
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(failure('invalid_json'));
    });
  });
});
