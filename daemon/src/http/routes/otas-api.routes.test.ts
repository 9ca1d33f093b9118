import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySecretStore, SecretStoreUnavailableError } from '../../secrets/secret-store.js';
import { issueCredential } from '../../domain/credentials.js';
import { sqlRows } from '../../testing/sql.js';
import { ADMIN, startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

const failure = (status_description: string) => ({ status: 0, status_description });

/** OTAS's API around its create page (agents/views.py, users/views.py, decorators.py), as an OTAS client calls it. */
describe('OTAS user, agent and session routes', () => {
  let t: TestDaemon;
  let jwt: string;
  let projectId: string;
  let apiKey: string;
  let agentId: string;
  let memberJwt: string;
  const asAdmin = () => ({ 'x-otas-user-token': jwt, 'x-otas-project-id': projectId });
  const asMember = () => ({ 'x-otas-user-token': memberJwt, 'x-otas-project-id': projectId });
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
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'member', password: 'a long enough password' },
    });
    const member = (await t.request('GET', '/admin/users?q=member', { token: admin })).body[0];
    await t.request('PUT', `/admin/projects/${projectId}/members/${member.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    memberJwt = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: 'member', password: 'a long enough password' } })
    ).body.response.jwt_token;
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

  describe('POST /api/agent/v1/auth/verify/', () => {
    it("answers the key's agent and project", async () => {
      const answer = await t.request('POST', '/api/agent/v1/auth/verify/', { headers: { 'x-otas-agent-key': apiKey } });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        status: 1,
        status_description: 'authenticated',
        response: { project_id: projectId, agent: { id: agentId, name: 'Summarizer', provider: 'Anthropic' } },
      });
    });

    it('answers 401 invalid_agent_key for a missing, wrong or malformed key', async () => {
      for (const headers of [
        {},
        { 'x-otas-agent-key': `${apiKey.slice(0, -2)}xx` },
        { 'x-otas-agent-key': 'nope' },
      ] as Array<Record<string, string>>) {
        const answer = await t.request('POST', '/api/agent/v1/auth/verify/', { headers });
        expect(answer.status).toBe(401);
        expect(answer.body).toEqual(failure('invalid_agent_key'));
      }
    });
  });

  describe('POST /api/agent/v1/user/authenticate/', () => {
    const check = (headers: Record<string, string>) =>
      t.request('POST', '/api/agent/v1/user/authenticate/', { headers: { ...asMember(), ...headers } });

    it("answers an active agent of the caller's project", async () => {
      const answer = await check({ 'x-otas-agent-id': agentId });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        status: 1,
        status_description: 'authenticated',
        agent: { id: agentId, name: 'Summarizer', project_id: projectId },
      });
    });

    it('answers 400 missing_agent_id and 404 agent_not_found as OTAS does', async () => {
      const missing = await check({});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('missing_agent_id'));
      const unknown = await check({ 'x-otas-agent-id': '00000000-0000-4000-8000-000000000000' });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual(failure('agent_not_found'));
    });
  });

  describe('POST /api/agent/v1/agents/key/create/', () => {
    const createKey = (body: unknown, headers = asAdmin()) =>
      t.request('POST', '/api/agent/v1/agents/key/create/', { headers, body });

    it("answers 201 with a new key valid `validity` days, and the agent's earlier keys stop", async () => {
      const other = await t.request('POST', '/api/agent/v1/create/', {
        headers: asAdmin(),
        body: { agent_name: 'Renewed', agent_provider: 'OpenAI' },
      });
      const firstKey: string = other.body.response.agent_key.api_key;
      const answer = await createKey({ agent_id: other.body.response.agent.id, validity: 7 });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({
        status: 1,
        status_description: 'agent_key_created',
        response: { agent_id: other.body.response.agent.id, agent_key: { active: true, api_key: expect.any(String) } },
      });
      const { created_at, expires_at, api_key } = answer.body.response.agent_key;
      expect(Date.parse(expires_at) - Date.parse(created_at)).toBe(7 * 86_400_000);
      const signIn = (key: string) =>
        t.request('POST', '/api/agent/v1/session/create/', { headers: { 'x-otas-agent-key': key } });
      expect((await signIn(api_key)).status).toBe(200);
      expect((await signIn(firstKey)).status).toBe(401);
      const listed = await t.request('GET', '/api/agent/v1/list/', { headers: asAdmin() });
      const renewed = listed.body.response.agents.find((agent: { name: string }) => agent.name === 'Renewed');
      expect(renewed.agent_keys.map((key: { active: boolean }) => key.active).sort()).toEqual([false, true]);
    });

    it('lasts 30 days without a validity, as OTAS keys do', async () => {
      const answer = await createKey({ agent_id: agentId });
      expect(answer.status).toBe(201);
      const { created_at, expires_at } = answer.body.response.agent_key;
      expect(Date.parse(expires_at) - Date.parse(created_at)).toBe(30 * 86_400_000);
    });

    it('answers 400 agent_id_required, 404 agent_not_found_or_invalid_id and 403 forbidden as OTAS does', async () => {
      const missing = await createKey({});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('agent_id_required'));
      const unknown = await createKey({ agent_id: '00000000-0000-4000-8000-000000000000' });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual(failure('agent_not_found_or_invalid_id'));
      const forbidden = await createKey({ agent_id: agentId }, asMember());
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual(failure('forbidden'));
      const noHeaders = await createKey({ agent_id: agentId }, { 'x-otas-user-token': jwt } as never);
      expect(noHeaders.status).toBe(400);
      expect(noHeaders.body).toEqual(failure('missing_headers'));
    });
  });

  it('answers 400 invalid_json for a body that is not JSON, where OTAS tells it apart', async () => {
    for (const path of ['/api/agent/v1/agents/key/create/', '/api/agent/v1/agents/key/revoke/']) {
      const answer = await t.request('POST', path, {
        headers: { ...asAdmin(), 'content-type': 'application/json' },
        raw: '{"agent_id": ',
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(failure('invalid_json'));
    }
  });

  describe('POST /api/agent/v1/agents/key/revoke/', () => {
    const revokeKey = (body: unknown, headers = asAdmin()) =>
      t.request('POST', '/api/agent/v1/agents/key/revoke/', { headers, body });

    it('stops an active key of the project, then answers 404 agent_key_not_found for it', async () => {
      const other = await t.request('POST', '/api/agent/v1/create/', {
        headers: asAdmin(),
        body: { agent_name: 'Revoked key', agent_provider: 'OpenAI' },
      });
      const { id, api_key } = other.body.response.agent_key;
      const forbidden = await revokeKey({ agent_key_id: id }, asMember());
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual(failure('forbidden'));
      const answer = await revokeKey({ agent_key_id: id });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ status: 1, status_description: 'agent_key_revoked', response: { id } });
      const signIn = await t.request('POST', '/api/agent/v1/session/create/', {
        headers: { 'x-otas-agent-key': api_key },
      });
      expect(signIn.status).toBe(401);
      const again = await revokeKey({ agent_key_id: id });
      expect(again.status).toBe(404);
      expect(again.body).toEqual(failure('agent_key_not_found'));
    });

    it('answers 400 agent_key_id_required and 404 for a key that is not there', async () => {
      const missing = await revokeKey({});
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('agent_key_id_required'));
      const unknown = await revokeKey({ agent_key_id: 'no-such-key' });
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual(failure('agent_key_not_found'));
    });
  });
});

describe('OTAS project and agent session routes', () => {
  let t: TestDaemon;
  let jwt: string;
  let memberJwt: string;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    const admin = (await t.setupAdmin()).access_token;
    projectId = (await t.request('GET', '/v1/whoami', { token: admin })).body.project.id;
    jwt = (await t.request('POST', '/api/user/v1/login/', { body: { email: 'admin', password: ADMIN.password } })).body
      .response.jwt_token;
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'member', password: 'a long enough password' },
    });
    const member = (await t.request('GET', '/admin/users?q=member', { token: admin })).body[0];
    await t.request('PUT', `/admin/projects/${projectId}/members/${member.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    memberJwt = (
      await t.request('POST', '/api/user/v1/login/', { body: { email: 'member', password: 'a long enough password' } })
    ).body.response.jwt_token;
  });
  afterAll(() => t.dispose());

  describe('POST /api/project/v1/create/ and GET /api/project/v1/list/', () => {
    it('creates a project its creator administers, listed first with its description and domain', async () => {
      const created = await t.request('POST', '/api/project/v1/create/', {
        headers: { 'x-otas-user-token': jwt },
        body: {
          project_name: '  Billing  ',
          project_description: 'Invoices',
          project_domain: 'https://billing.example',
        },
      });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        status: 1,
        status_description: 'project_created',
        response_body: {
          project: {
            id: expect.any(String),
            name: 'Billing',
            description: 'Invoices',
            domain: 'https://billing.example',
          },
        },
      });
      const listed = await t.request('GET', '/api/project/v1/list/', { headers: { 'x-otas-user-token': jwt } });
      expect(listed.status).toBe(200);
      expect(listed.body.status_description).toBe('projects_listed');
      const [newest, older] = listed.body.response_body.projects;
      expect(newest).toMatchObject({
        id: created.body.response_body.project.id,
        name: 'Billing',
        is_active: true,
        privilege: 1,
        created_by: expect.any(String),
      });
      expect(older).toMatchObject({ id: projectId, description: null, domain: null });
    });

    it('answers 400 invalid_json for a body that is not JSON', async () => {
      const answer = await t.request('POST', '/api/project/v1/create/', {
        headers: { 'x-otas-user-token': jwt, 'content-type': 'application/json' },
        raw: '{"project_name": ',
      });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(failure('invalid_json'));
    });

    it("lists only a member's own projects, with its privilege", async () => {
      const listed = await t.request('GET', '/api/project/v1/list/', { headers: { 'x-otas-user-token': memberJwt } });
      expect(listed.body.response_body.projects).toEqual([expect.objectContaining({ id: projectId, privilege: 2 })]);
    });

    it('answers 400 project_creation_failed, missing_token, 401 invalid_token and 403 forbidden', async () => {
      const noName = await t.request('POST', '/api/project/v1/create/', {
        headers: { 'x-otas-user-token': jwt },
        body: { project_name: '   ' },
      });
      expect(noName.status).toBe(400);
      expect(noName.body).toEqual(failure('project_creation_failed'));
      const missing = await t.request('GET', '/api/project/v1/list/');
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('missing_token'));
      const bad = await t.request('GET', '/api/project/v1/list/', { headers: { 'x-otas-user-token': 'nope' } });
      expect(bad.status).toBe(401);
      expect(bad.body).toEqual(failure('invalid_token'));
      // Gatehouse keeps project creation to user admins, OTAS's API included.
      const forbidden = await t.request('POST', '/api/project/v1/create/', {
        headers: { 'x-otas-user-token': memberJwt },
        body: { project_name: 'Mine' },
      });
      expect(forbidden.status).toBe(403);
      expect(forbidden.body).toEqual(failure('forbidden'));
    });
  });

  describe('GET /api/agent/v1/sessions/list/', () => {
    it("lists an agent's sessions newest first, with the key and meta each was opened with", async () => {
      const headers = { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId };
      const created = await t.request('POST', '/api/agent/v1/create/', {
        headers,
        body: { agent_name: 'Worker', agent_provider: 'Anthropic' },
      });
      const { id: keyId, api_key } = created.body.response.agent_key;
      const agentId = created.body.response.agent.id;
      for (const host of ['first', 'second']) {
        const opened = await t.request('POST', '/api/agent/v1/session/create/', {
          headers: { 'x-otas-agent-key': api_key },
          body: { meta: { host } },
        });
        expect(opened.status).toBe(200);
      }
      const listed = await t.request('GET', `/api/agent/v1/sessions/list/?agent_id=${agentId}`, {
        headers: { 'x-otas-user-token': memberJwt, 'x-otas-project-id': projectId },
      });
      expect(listed.status).toBe(200);
      expect(listed.body).toEqual({
        status: 1,
        status_description: 'agent_sessions_listed',
        response: {
          agent_id: agentId,
          sessions: [
            { id: expect.any(String), agent_key_id: keyId, created_at: expect.any(String), meta: { host: 'second' } },
            { id: expect.any(String), agent_key_id: keyId, created_at: expect.any(String), meta: { host: 'first' } },
          ],
        },
      });
    });

    it('answers 400 agent_id_required and 403 agent_not_found_or_no_access as OTAS does', async () => {
      const headers = { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId };
      const missing = await t.request('GET', '/api/agent/v1/sessions/list/', { headers });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('agent_id_required'));
      const unknown = await t.request('GET', '/api/agent/v1/sessions/list/?agent_id=nobody', { headers });
      expect(unknown.status).toBe(403);
      expect(unknown.body).toEqual(failure('agent_not_found_or_no_access'));
    });
  });
});

describe('OTAS backend SDK key routes', () => {
  let t: TestDaemon;
  let token: string;
  let admin: Record<string, string>;
  let member: Record<string, string>;
  beforeAll(async () => {
    t = await startTestDaemon();
    token = (await t.setupAdmin()).access_token;
    const projectId = (await t.request('GET', '/v1/whoami', { token })).body.project.id;
    const login = async (email: string, password: string) =>
      (await t.request('POST', '/api/user/v1/login/', { body: { email, password } })).body.response.jwt_token;
    admin = { 'x-otas-user-token': await login('admin', ADMIN.password), 'x-otas-project-id': projectId };
    await t.request('POST', '/admin/users', {
      token,
      body: { username: 'member', password: 'a long enough password' },
    });
    const user = (await t.request('GET', '/admin/users?q=member', { token })).body[0];
    await t.request('PUT', `/admin/projects/${projectId}/members/${user.id}`, { token, body: { privilege: 2 } });
    member = { 'x-otas-user-token': await login('member', 'a long enough password'), 'x-otas-project-id': projectId };
  });
  afterAll(() => t.dispose());

  const signIn = (key?: string) =>
    t.request('POST', '/api/project/v1/sdk/backend/key/authenticate/', {
      headers: key === undefined ? {} : { 'x-otas-sdk-key': key },
    });

  it('creates a key shown once, lists it without the key, signs the SDK in with it, and revokes it', async () => {
    const created = await t.request('POST', '/api/project/v1/sdk/backend/key/create/', {
      headers: admin,
      body: { validity: 90 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 1,
      status_description: 'backend_sdk_key_created',
      response_body: { project_id: admin['x-otas-project-id'], name: null, active: true },
    });
    const { id, api_key, created_at, expires_at } = created.body.response_body;
    expect(api_key).toMatch(/^otas_/);
    expect(Date.parse(expires_at) - Date.parse(created_at)).toBe(90 * 86_400_000);

    const listed = await t.request('GET', '/api/project/v1/sdk/backend/key/list/', { headers: admin });
    expect(listed.status).toBe(200);
    expect(listed.body.status_description).toBe('backend_sdk_keys_listed');
    expect(listed.body.response_body.keys).toEqual([
      { id, prefix: api_key.slice(5, 13), name: null, created_at, expires_at, active: true, revoked_at: null },
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(api_key);

    const signingIn = Date.now();
    const signedIn = await signIn(api_key);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toEqual({
      status: 1,
      status_description: 'authenticated',
      response: { project: { id: admin['x-otas-project-id'], name: 'Default', description: null } },
    });
    // The use is written with the next batch of uses, not on the sign-in itself.
    const lastUsed = () =>
      sqlRows<{ last_used_at: string | null }>(t, `SELECT last_used_at FROM sdk_keys WHERE id = '${id}'`);
    expect(await lastUsed()).toEqual([{ last_used_at: null }]);
    await t.daemon.services.usage.flush();
    expect(Date.parse((await lastUsed())[0]!.last_used_at!)).toBeGreaterThanOrEqual(signingIn);

    const revoked = await t.request('POST', '/api/project/v1/sdk/backend/key/revoke/', {
      headers: admin,
      body: { sdk_key_id: id },
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ status: 1, status_description: 'backend_sdk_key_revoked', response_body: { id } });
    expect((await signIn(api_key)).status).toBe(403);
    const again = await t.request('POST', '/api/project/v1/sdk/backend/key/revoke/', {
      headers: admin,
      body: { sdk_key_id: id },
    });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(failure('sdk_key_not_found'));
    const after = await t.request('GET', '/api/project/v1/sdk/backend/key/list/', { headers: admin });
    expect(after.body.response_body.keys[0]).toMatchObject({ id, active: false, revoked_at: expect.any(String) });
  });

  it('answers 400 sdk_key_creation_failed for a validity outside 1 to 300 and sdk_key_id_required', async () => {
    for (const body of [{}, { validity: 0 }, { validity: 301 }, { validity: '30' }]) {
      const answer = await t.request('POST', '/api/project/v1/sdk/backend/key/create/', { headers: admin, body });
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual(failure('sdk_key_creation_failed'));
    }
    const missing = await t.request('POST', '/api/project/v1/sdk/backend/key/revoke/', { headers: admin, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual(failure('sdk_key_id_required'));
  });

  it('keeps SDK keys to project admins: 403 forbidden for a member', async () => {
    const list = await t.request('GET', '/api/project/v1/sdk/backend/key/list/', { headers: member });
    expect(list.status).toBe(403);
    expect(list.body).toEqual(failure('forbidden'));
    const create = await t.request('POST', '/api/project/v1/sdk/backend/key/create/', {
      headers: member,
      body: { validity: 30 },
    });
    expect(create.status).toBe(403);
    expect(create.body).toEqual(failure('forbidden'));
  });

  it('refuses a missing, malformed or unknown SDK key', async () => {
    const missing = await signIn();
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual(failure('sdk_key_missing'));
    for (const key of ['otas_nope', `otas_${'A'.repeat(8)}_${'B'.repeat(38)}`]) {
      const refused = await signIn(key);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual(failure('invalid_sdk_key'));
    }
  });

  it('audits refused SDK keys and answers 429 once one prefix has failed ten times in a minute', async () => {
    // Well formed, with its checksum, and in no database.
    const { plaintext: unknown, prefix } = issueCredential('sdk');
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn(unknown)).status);
    expect(statuses).toEqual([...Array<number>(10).fill(403), 429]);
    const limited = await signIn(unknown);
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual(failure('rate_limited'));
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const audit = await t.request('GET', '/v1/audit?event_type=auth.failed', { token });
    // Each refusal up to the limit; the one that reached it says so, those after it are not recorded.
    expect(audit.body.filter((entry: { target: string }) => entry.target === `key:${prefix}`)).toHaveLength(10);
    expect(audit.body[0]).toMatchObject({
      target: `key:${prefix}`,
      metadata: { reason: 'unknown_key', rate_limited_for_seconds: expect.any(Number) },
    });
    expect(JSON.stringify(audit.body)).not.toContain(unknown.slice(prefix.length + 6));
  });
});

describe('OTAS user routes', () => {
  const signUp = (t: TestDaemon, body: unknown) => t.request('POST', '/api/user/v1/create/', { body });
  const newcomer = {
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'Ada@Example.com',
    password: 'analytical engine',
  };

  describe('with sign-up off (the default)', () => {
    let t: TestDaemon;
    beforeAll(async () => {
      t = await startTestDaemon();
      await t.setupAdmin();
    });
    afterAll(() => t.dispose());

    it('answers 403 signup_disabled and creates no one', async () => {
      const answer = await signUp(t, newcomer);
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual(failure('signup_disabled'));
      const login = await t.request('POST', '/api/user/v1/login/', {
        body: { email: newcomer.email, password: newcomer.password },
      });
      expect(login.status).toBe(401);
    });

    it('answers 501 password_reset_by_mail_not_supported for the reset by mail', async () => {
      for (const path of ['/v1/user/reset-password/init/', '/v1/user/reset-password/reset/']) {
        const answer = await t.request('POST', path, { body: { emailId: 'admin@example.com' } });
        expect(answer.status).toBe(501);
        expect(answer.body).toEqual(failure('password_reset_by_mail_not_supported'));
      }
    });
  });

  describe('with --allow-signup', () => {
    let t: TestDaemon;
    beforeAll(async () => {
      t = await startTestDaemon({ config: { allowSignup: true } });
      await t.setupAdmin();
    });
    afterAll(() => t.dispose());

    it('signs a user up with its names, answering a jwt_token that authenticates it', async () => {
      const answer = await signUp(t, newcomer);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({
        status: 1,
        status_description: 'user_created',
        response_body: {
          user: {
            id: expect.any(String),
            first_name: 'Ada',
            middle_name: null,
            last_name: 'Lovelace',
            email: 'ada@example.com',
            created_at: expect.any(String),
            updated_at: expect.any(String),
          },
          jwt_token: expect.any(String),
        },
      });
      const jwt = answer.body.response_body.jwt_token;
      const who = await t.request('POST', '/api/user/v1/authenticate/', { headers: { 'x-otas-user-token': jwt } });
      expect(who.body.response_body.user).toMatchObject({ email: 'ada@example.com', last_name: 'Lovelace' });
      // A newcomer is a viewer in no project.
      const projects = await t.request('GET', '/api/project/v1/list/', { headers: { 'x-otas-user-token': jwt } });
      expect(projects.body.response_body.projects).toEqual([]);
    });

    it("answers OTAS's missing_fields, invalid_email_format, password_too_short and user_already_exists", async () => {
      const missing = await signUp(t, { first_name: 'Bo', password: 'long enough password' });
      expect(missing.status).toBe(400);
      expect(missing.body).toEqual(failure('missing_fields: last_name, email'));
      const badEmail = await signUp(t, { ...newcomer, email: 'not-an-email' });
      expect(badEmail.status).toBe(400);
      expect(badEmail.body).toEqual(failure('invalid_email_format'));
      const short = await signUp(t, { ...newcomer, email: 'bo@example.com', password: 'short' });
      expect(short.status).toBe(400);
      expect(short.body).toEqual(failure('password_too_short'));
      const again = await signUp(t, { ...newcomer, email: 'ADA@example.com' });
      expect(again.status).toBe(400);
      expect(again.body).toEqual(failure('user_already_exists'));
    });

    it('edits the caller’s names and changes its password given the current one', async () => {
      const jwt = (
        await t.request('POST', '/api/user/v1/login/', { body: { email: newcomer.email, password: newcomer.password } })
      ).body.response.jwt_token;
      const headers = { 'x-otas-user-token': jwt };
      const edited = await t.request('PUT', '/api/user/v1/edit/', {
        headers,
        body: { first_name: 'Augusta', middle_name: 'Ada', last_name: 'King' },
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        status: 1,
        status_description: 'user_profile_updated',
        response_body: { user: { first_name: 'Augusta', middle_name: 'Ada', last_name: 'King' } },
      });
      const blank = await t.request('PUT', '/api/user/v1/edit/', { headers, body: { first_name: 'Augusta' } });
      expect(blank.status).toBe(400);
      expect(blank.body).toEqual(failure('missing_required_fields'));
      const noToken = await t.request('PUT', '/api/user/v1/edit/', { body: { first_name: 'A', last_name: 'B' } });
      expect(noToken.status).toBe(400);
      expect(noToken.body).toEqual(failure('missing_token'));

      const update = (body: unknown) => t.request('PUT', '/api/user/v1/reset-password/update/', { headers, body });
      expect((await update({})).body).toEqual(failure('missing_password'));
      expect((await update({ password: 'short' })).body).toEqual(failure('password_too_short'));
      expect((await update({ password: 'a new long password' })).body).toEqual(failure('current_password_required'));
      const wrong = await update({ password: 'a new long password', current_password: 'not it at all' });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toEqual(failure('wrong_current_password'));
      const changed = await update({ password: 'a new long password', current_password: newcomer.password });
      expect(changed.status).toBe(200);
      expect(changed.body).toEqual({ status: 1, status_description: 'password_updated', response_body: null });
      const login = await t.request('POST', '/api/user/v1/login/', {
        body: { email: newcomer.email, password: 'a new long password' },
      });
      expect(login.status).toBe(200);
    });
  });
});

describe('OTAS agent key renewal when the keychain fails', () => {
  class SwitchableStore extends MemorySecretStore {
    failWrites = false;
    override async set(account: string, secret: string) {
      if (this.failWrites) throw new SecretStoreUnavailableError('unavailable', 'simulated outage');
      return super.set(account, secret);
    }
  }
  const store = new SwitchableStore();
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ secrets: store });
  });
  afterAll(() => t.dispose());

  it('answers 503 in the envelope and leaves the earlier key working, with no new key', async () => {
    const token = (await t.setupAdmin()).access_token;
    const projectId = (await t.request('GET', '/v1/whoami', { token })).body.project.id;
    const jwt = (await t.request('POST', '/api/user/v1/login/', { body: { email: 'admin', password: ADMIN.password } }))
      .body.response.jwt_token;
    const headers = { 'x-otas-user-token': jwt, 'x-otas-project-id': projectId };
    const created = await t.request('POST', '/api/agent/v1/create/', {
      headers,
      body: { agent_name: 'Steady', agent_provider: 'Anthropic' },
    });
    const { id: agentId } = created.body.response.agent;
    const { api_key } = created.body.response.agent_key;
    store.failWrites = true;
    try {
      const refused = await t.request('POST', '/api/agent/v1/agents/key/create/', {
        headers,
        body: { agent_id: agentId },
      });
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual(failure('keychain_unavailable'));
    } finally {
      store.failWrites = false;
    }
    const listed = await t.request('GET', '/api/agent/v1/list/', { headers });
    expect(listed.body.response.agents[0].agent_keys).toEqual([expect.objectContaining({ active: true })]);
    const signIn = await t.request('POST', '/api/agent/v1/session/create/', {
      headers: { 'x-otas-agent-key': api_key },
    });
    expect(signIn.status).toBe(200);
    expect(await store.get('agent:default/Steady')).toBe(api_key);
  });
});
