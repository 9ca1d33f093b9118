import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

/** Pipelit's agent users: credentials a workflow node's agent provisions for itself. */
describe('agent users (Pipelit)', () => {
  let t: TestDaemon;
  let admin: string;
  let writerKey: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    writerKey = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        body: {
          name: 'writer',
          system_prompt: 'You are a self-improving agent.',
          issue_key: true,
        },
      })
    ).body.agent_key.api_key;
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'bystander', issue_key: true } });
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'My Workflow' } });
    const graph = (part: string, body: Record<string, unknown>) =>
      t.request('POST', `/admin/workflows/my-workflow/graph/${part}`, { token: admin, body });
    for (const agent of ['writer', 'writer', 'bystander'])
      await graph('nodes', { node_type: 'agent', agent_id: agent });
    // The seed's graph around n1: a chat trigger into the agent, and its two tools connected to it.
    await graph('nodes', { node_type: 'start', label: 'Chat Trigger' });
    await graph('nodes', { node_type: 'tool', label: 'Create Agent User', config: { tool: 'create_agent_user' } });
    await graph('nodes', { node_type: 'tool', label: 'Platform API', config: { tool: 'platform_api' } });
    for (const source of ['n4', 'n5', 'n6']) await graph('edges', { source_node_id: source, target_node_id: 'n1' });
  });
  afterAll(() => t.dispose());

  const provision = (node: string, credential: string, body: Record<string, unknown> = {}) =>
    t.request('POST', `/v1/workflows/my-workflow/nodes/${node}/agent-user`, {
      headers: { authorization: `Bearer ${credential}` },
      body,
    });
  const as = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

  it('runs the seed’s self-improving agent story end to end, the tools connected to its node being the whole grant', async () => {
    // 1. The agent calls create_agent_user(purpose="Self-improvement") with its own key.
    const created = await provision('n1', writerKey, { purpose: 'Self-improvement' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      success: true,
      username: 'agent_my-workflow_n1',
      api_key: expect.stringMatching(/^agent_/),
      api_base_url: t.url,
      purpose: 'Self-improvement',
      already_existed: false,
      keychain: { service: t.keychainService, account: expect.stringMatching(/^agent-key:/) },
    });
    const apiKey = created.body.api_key;
    // The key is where the answer says it is.
    expect(await keytar.getPassword(t.keychainService, created.body.keychain.account)).toBe(apiKey);

    // 2. whoami: its identity and current configuration, in Pipelit's shape.
    const whoami = await t.request('GET', '/v1/whoami', as(apiKey));
    expect(whoami.status).toBe(200);
    expect(whoami.body).toMatchObject({
      identity: { username: 'agent_my-workflow_n1', workflow_slug: 'my-workflow', node_id: 'n1' },
      current_config: {
        system_prompt: 'You are a self-improving agent.',
        system_prompt_length: 31,
        extra_config: {},
      },
      self_modification: { endpoint: '/v1/workflows/my-workflow/nodes/n1', method: 'PATCH' },
    });
    expect(whoami.body.self_modification.example_body.system_prompt).toEqual(expect.any(String));

    // 3. It improves its greeting through the endpoint whoami named.
    const prompt = 'You are a self-improving agent. Greet users warmly, by name.';
    const patched = await t.request('PATCH', whoami.body.self_modification.endpoint, {
      ...as(apiKey),
      body: { system_prompt: prompt, extra_config: { greeting: 'warm' } },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.config).toMatchObject({ system_prompt: prompt, extra_config: { greeting: 'warm' } });

    // 4. whoami shows the new prompt.
    const after = await t.request('GET', '/v1/whoami', as(apiKey));
    expect(after.body.current_config).toEqual({
      system_prompt: prompt,
      system_prompt_length: prompt.length,
      extra_config: { greeting: 'warm' },
    });

    // 5. Calling create_agent_user again returns the same credentials, read back from the keychain.
    const again = await provision('n1', writerKey, { purpose: 'Self-improvement' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...created.body, already_existed: true });

    const audit = (await t.request('GET', '/v1/audit?event_type=workflow.node_self_updated', { token: admin })).body;
    expect(audit[0]).toMatchObject({
      actor: 'agent:writer',
      metadata: { node_id: 'n1', fields: ['system_prompt', 'extra_config'] },
    });
  });

  it('is a user with no password that cannot log in, with its purpose as first_name and MFA on', async () => {
    const users = (await t.request('GET', '/admin/users?q=agent_my-workflow_n1', { token: admin })).body;
    expect(users).toEqual([
      expect.objectContaining({
        username: 'agent_my-workflow_n1',
        kind: 'agent',
        first_name: 'Self-improvement',
        mfa_enabled: true,
      }),
    ]);
    const login = await t.request('POST', '/auth/login', {
      body: { username: 'agent_my-workflow_n1', password: 'x'.repeat(12) },
    });
    expect(login.status).toBe(401);
    const secret = await keytar.getPassword(t.keychainService, `totp:${users[0].id}`);
    expect(secret).toMatch(/^[A-Z2-7]+=*$/);
    // It goes with its node, never on its own (its key would outlive it).
    const removed = await t.request('DELETE', `/admin/users/${users[0].id}`, { token: admin });
    expect(removed.status).toBe(409);
    expect(removed.body.detail).toContain('workflow node');
  });

  it('gives its TOTP code, which verifies once', async () => {
    const { api_key } = (await provision('n1', admin)).body;
    const totp = await t.request('GET', '/v1/totp', as(api_key));
    expect(totp.status).toBe(200);
    expect(totp.body).toEqual({
      success: true,
      username: 'agent_my-workflow_n1',
      totp_code: expect.stringMatching(/^\d{6}$/),
      expires_in: expect.any(Number),
    });
    const verify = (code: string) =>
      t.request('POST', '/v1/totp/verify', { token: admin, body: { username: 'agent_my-workflow_n1', code } });
    expect((await verify(totp.body.totp_code)).body).toEqual({ valid: true });
    expect((await verify(totp.body.totp_code)).body).toEqual({ valid: false }); // replay
    const wrong = totp.body.totp_code === '000000' ? '111111' : '000000';
    expect((await verify(wrong)).body).toEqual({ valid: false });
    expect(
      (await t.request('POST', '/v1/totp/verify', { token: admin, body: { username: 'nobody', code: '123456' } }))
        .status,
    ).toBe(404);
    // An ordinary agent key has no TOTP.
    expect((await t.request('GET', '/v1/totp', as(writerKey))).status).toBe(403);

    // From another project the agent user does not exist: outsiders cannot spend its tries.
    const other = (await t.request('POST', '/admin/projects', { token: admin, body: { name: 'Elsewhere' } })).body;
    const outsider = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        headers: { 'x-project-id': other.id },
        body: { name: 'outsider', issue_key: true },
      })
    ).body.agent_key.api_key;
    const fromOutside = await t.request('POST', '/v1/totp/verify', {
      ...as(outsider),
      body: { username: 'agent_my-workflow_n1', code: wrong },
    });
    expect(fromOutside.status).toBe(404);
  });

  it('never writes an agent user’s key under its agent’s alias, which keeps the agent’s own key', async () => {
    await provision('n2', admin);
    const alias = await keytar.getPassword(t.keychainService, 'agent:default/writer');
    expect(alias).toBe(writerKey);
    const whoami = await t.request('GET', '/v1/whoami', as(alias!));
    expect(whoami.body.identity).toBeUndefined();
    expect(whoami.body).toMatchObject({ agent: { name: 'writer' } });
  });

  it('lets only a project admin or the node’s own agent provision it', async () => {
    const bystanderKey = (
      await t.request('POST', '/admin/agents/bystander/keys', { token: admin, body: { label: 'b' } })
    ).body.api_key;
    expect((await provision('n2', bystanderKey)).status).toBe(403);
    expect((await provision('n9', admin)).status).toBe(404);
    expect((await t.request('POST', '/v1/workflows/nope/nodes/n1/agent-user', { token: admin, body: {} })).status).toBe(
      404,
    );
    const byAdmin = await provision('n3', admin, { purpose: 'ops', api_base_url: 'https://gatehouse.example' });
    expect(byAdmin.body).toMatchObject({ username: 'agent_my-workflow_n3', api_base_url: 'https://gatehouse.example' });
  });

  it('takes api_base_url from the node’s extra_config when the call does not give one', async () => {
    await t.request('PATCH', '/admin/workflows/my-workflow/graph/nodes/n2', {
      token: admin,
      body: { config: { extra_config: { api_base_url: 'http://pipelit.internal:8000' } } },
    });
    const created = await provision('n2', admin);
    expect(created.body).toMatchObject({ api_base_url: 'http://pipelit.internal:8000', purpose: '' });
  });

  it('lets an agent user change only its own node’s system_prompt and extra_config', async () => {
    const { api_key } = (await provision('n1', writerKey)).body;
    const patch = (path: string, body: Record<string, unknown>, key = api_key) =>
      t.request('PATCH', path, { ...as(key), body });

    for (const body of [{ allowed_tools: ['*'] }, { scopes: ['admin:*'] }, { status: 'active' }, { label: 'x' }]) {
      const refused = await patch('/v1/workflows/my-workflow/nodes/n1', body);
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toContain(Object.keys(body)[0]);
    }
    expect((await patch('/v1/workflows/my-workflow/nodes/n2', { system_prompt: 'hijack' })).status).toBe(403);
    expect((await patch('/v1/workflows/other/nodes/n1', { system_prompt: 'hijack' })).status).toBe(403);
    // The agent's own key is not an agent user; a human session is not an agent.
    expect((await patch('/v1/workflows/my-workflow/nodes/n1', { system_prompt: 'x' }, writerKey)).status).toBe(403);
    expect((await patch('/v1/workflows/my-workflow/nodes/n1', { system_prompt: 'x' }, admin)).status).toBe(403);
    const node2 = (await t.request('GET', '/admin/workflows/my-workflow/graph', { token: admin })).body.nodes[1];
    expect(node2.config.system_prompt).toBeUndefined();
  });

  it('changes a node only when the platform API is connected to it, by an edge or in its config.tools', async () => {
    const { api_key } = (await provision('n2', admin)).body;
    const patch = () =>
      t.request('PATCH', '/v1/workflows/my-workflow/nodes/n2', { ...as(api_key), body: { system_prompt: 'better' } });
    const refused = await patch();
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('no platform_api tool connected');
    // The create_agent_user tool alone is no grant.
    await t.request('POST', '/admin/workflows/my-workflow/graph/edges', {
      token: admin,
      body: { source_node_id: 'n5', target_node_id: 'n2' },
    });
    expect((await patch()).status).toBe(403);

    await t.request('PATCH', '/admin/workflows/my-workflow/graph/nodes/n2', {
      token: admin,
      body: { config: { tools: ['platform_api'] } },
    });
    expect((await patch()).status).toBe(200);
  });

  it('follows a rotation: the new key is the agent user’s, and a repeat call returns it', async () => {
    const before = (await provision('n1', admin)).body.api_key;
    const keys = (await t.request('GET', '/v1/agents/writer/keys', { token: admin })).body;
    const key = keys.find((k: { label: string; active: boolean }) => k.label === 'agent_my-workflow_n1' && k.active);
    const rotated = await t.request('POST', `/admin/agents/writer/keys/${key.id}/rotate`, { token: admin, body: {} });
    expect(rotated.status).toBe(201);
    expect((await t.request('GET', '/v1/whoami', as(rotated.body.api_key))).body.identity.node_id).toBe('n1');
    expect((await t.request('GET', '/v1/whoami', as(before))).status).toBe(401);
    const again = await provision('n1', admin);
    expect(again.body).toMatchObject({ api_key: rotated.body.api_key, already_existed: true });
  });

  it('answers 409 credentials_unrecoverable when the keychain lost the key', async () => {
    const keys = (await t.request('GET', '/v1/agents/bystander/keys', { token: admin })).body;
    const key = keys.find((k: { label: string }) => k.label === 'agent_my-workflow_n3');
    expect(await keytar.deletePassword(t.keychainService, `agent-key:${key.id}`)).toBe(true);
    const lost = await provision('n3', admin);
    expect(lost.status).toBe(409);
    expect(lost.body).toMatchObject({ code: 'credentials_unrecoverable' });
    expect(lost.body.detail).toContain('rotate');
  });

  it('removes the agent user and revokes its key when its node is deleted', async () => {
    const { api_key } = (await provision('n2', admin)).body;
    expect((await t.request('GET', '/v1/whoami', as(api_key))).status).toBe(200);
    await t.request('DELETE', '/admin/workflows/my-workflow/graph/nodes/n2', { token: admin });
    expect((await t.request('GET', '/v1/whoami', as(api_key))).status).toBe(401);
    expect((await t.request('GET', '/admin/users?q=agent_my-workflow_n2', { token: admin })).body).toEqual([]);
  });
});

describe('agent users under concurrency', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'racer' } });
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'race' } });
    await t.request('POST', '/admin/workflows/race/graph/nodes', {
      token: admin,
      body: { node_type: 'agent', agent_id: 'racer' },
    });
  });
  afterAll(() => t.dispose());

  it('creates exactly one user and one key for 100 parallel calls, and all get the same key', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        t.request('POST', '/v1/workflows/race/nodes/n1/agent-user', { token: admin, body: { purpose: 'race' } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(99);
    expect(new Set(results.map((r) => r.body.api_key)).size).toBe(1);
    expect(results.filter((r) => r.body.already_existed === false)).toHaveLength(1);

    const users = await t.request('GET', '/admin/users?q=agent_race_n1', { token: admin });
    expect(users.headers.get('x-total-count')).toBe('1');
    const keys = (await t.request('GET', '/v1/agents/racer/keys', { token: admin })).body;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ label: 'agent_race_n1', expires_at: null });
  });
});
