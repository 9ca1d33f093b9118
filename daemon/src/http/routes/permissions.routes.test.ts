import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('tools, grants, roles and /v1/authorize', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    for (const name of ['web_search', 'calculator', 'file_reader', 'send_email', 'execute_code'])
      await t.request('POST', '/admin/tools', { token: admin, body: { name, description: `The ${name} tool` } });
  });
  afterAll(() => t.dispose());

  /** An agent with a key, and a fresh token for it. */
  const agentWithToken = async (name: string, body: Record<string, unknown> = {}) => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name, issue_key: true, ...body },
    });
    const tokens = await t.request('POST', '/v1/auth/token', {
      body: { agent_id: created.body.id, secret: created.body.agent_key.api_key },
    });
    return {
      id: created.body.id as string,
      key: created.body.agent_key.api_key as string,
      token: tokens.body.access_token,
    };
  };
  const newToken = async (agent: { id: string; key: string }) =>
    (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.key } })).body.access_token;
  const authorize = (token: string, tool: string) =>
    t.request('POST', '/v1/authorize', { token, body: { tool } }).then((r) => r.body);
  const toolsOf = async (token: string) => (await t.request('GET', '/v1/whoami', { token })).body.tools;

  /** An admin (not super_admin) of the default project whose ceiling is `ceiling`. */
  const adminWithCeiling = async (username: string, ceiling: string[] | '*') => {
    const user = (
      await t.request('POST', '/admin/users', {
        token: admin,
        body: { username, password: 'a long enough password', role: 'admin', tool_ceiling: ceiling },
      })
    ).body;
    const project = (await t.request('GET', '/v1/whoami', { token: admin })).body.project;
    await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
      token: admin,
      body: { privilege: 1 },
    });
    return (await t.login(username, 'a long enough password')).body.access_token as string;
  };

  it('keeps a registry of tools; a duplicate is 409 and an unknown one 404 on delete', async () => {
    const tools = (await t.request('GET', '/v1/tools', { token: admin })).body;
    expect(tools.map((tool: { name: string }) => tool.name)).toEqual([
      'calculator',
      'execute_code',
      'file_reader',
      'send_email',
      'web_search',
    ]);
    expect((await t.request('POST', '/admin/tools', { token: admin, body: { name: 'calculator' } })).status).toBe(409);
    // Pages like every list: limit and offset, the total in X-Total-Count.
    const page = await t.request('GET', '/v1/tools?limit=2&offset=1', { token: admin });
    expect(page.body.map((tool: { name: string }) => tool.name)).toEqual(['execute_code', 'file_reader']);
    expect(page.headers.get('x-total-count')).toBe('5');
    expect((await t.request('GET', '/v1/tools?limit=1001', { token: admin })).status).toBe(400);
    expect((await t.request('DELETE', '/admin/tools/nothing', { token: admin })).status).toBe(404);
    expect((await t.request('POST', '/admin/tools', { token: admin, body: { name: 'bad name!' } })).status).toBe(400);
  });

  it('grants as the gateway seed shows, bumping permissions_version', async () => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'researcher', backend: 'gpt4o', allowed_tools: ['web_search'] },
    });
    expect(created.body).toMatchObject({ allowed_tools: ['web_search'], permissions_version: 1 });
    const granted = await t.request('POST', '/admin/agents/researcher/tools', {
      token: admin,
      body: { tools: ['calculator', 'file_reader'] },
    });
    expect(granted.status).toBe(200);
    expect(granted.body).toMatchObject({
      name: 'researcher',
      allowed_tools: ['calculator', 'file_reader', 'web_search'],
      permissions_version: 2,
    });
    const revoked = await t.request('DELETE', '/admin/agents/researcher/tools', {
      token: admin,
      body: { tools: ['calculator'] },
    });
    expect(revoked.body).toMatchObject({ allowed_tools: ['file_reader', 'web_search'], permissions_version: 3 });
  });

  it('bumps permissions_version only on a real change, and refuses to grant a tool that is not registered', async () => {
    const agent = await agentWithToken('steady', { allowed_tools: ['web_search'] });
    const change = (method: string, tools: string[]) =>
      t.request(method, '/admin/agents/steady/tools', { token: admin, body: { tools } });
    const before = (await t.request('GET', '/v1/agents/steady', { token: admin })).body.permissions_version;
    expect((await change('POST', ['web_search'])).body.permissions_version).toBe(before);
    expect((await change('DELETE', ['calculator'])).body.permissions_version).toBe(before);
    // Its token still works: nothing it may do has changed.
    expect((await t.request('GET', '/v1/whoami', { token: agent.token })).status).toBe(200);

    const unknown = await change('POST', ['web_search', 'no_such_tool']);
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'validation_failed' });
    expect(unknown.body.detail).toContain('no_such_tool');
    const after = (await t.request('GET', '/v1/agents/steady', { token: admin })).body;
    expect(after).toMatchObject({ allowed_tools: ['web_search'], permissions_version: before });

    expect((await change('POST', ['calculator'])).body.permissions_version).toBe(before + 1);
  });

  it('answers /v1/authorize for allowed, not granted, unknown and approval-required tools', async () => {
    const agent = await agentWithToken('authorizer', { allowed_tools: ['web_search', 'send_email', 'not_registered'] });
    await t.request('PUT', '/admin/agents/authorizer/approval-required-tools', {
      token: admin,
      body: { tools: ['send_email'] },
    });
    const token = await newToken(agent);
    expect(await authorize(token, 'web_search')).toEqual({
      allowed: true,
      approval_required: false,
      reason: 'granted',
    });
    expect(await authorize(token, 'execute_code')).toEqual({
      allowed: false,
      approval_required: false,
      reason: 'not_granted',
    });
    expect(await authorize(token, 'not_registered')).toEqual({
      allowed: false,
      approval_required: false,
      reason: 'unknown_tool',
    });
    expect(await authorize(token, 'send_email')).toEqual({
      allowed: false,
      approval_required: true,
      reason: 'approval_required',
    });
    // The agent's key works too; a human cannot ask on an agent's behalf.
    expect(
      (await t.request('POST', '/v1/authorize', { headers: { 'x-api-key': agent.key }, body: { tool: 'web_search' } }))
        .body.allowed,
    ).toBe(true);
    expect((await t.request('POST', '/v1/authorize', { token: admin, body: { tool: 'web_search' } })).status).toBe(403);
  });

  it('counts only registered tools: deleting one from the registry takes it from every agent at once', async () => {
    await t.request('POST', '/admin/tools', { token: admin, body: { name: 'scratch_tool' } });
    const agent = await agentWithToken('registry-bound', { allowed_tools: ['scratch_tool', 'web_search'] });
    expect(await toolsOf(agent.token)).toEqual(['scratch_tool', 'web_search']);
    expect((await t.request('DELETE', '/admin/tools/scratch_tool', { token: admin })).status).toBe(204);
    // The change bumped the agent: its token is refused and a new one lacks the tool.
    expect((await t.request('GET', '/v1/whoami', { token: agent.token })).status).toBe(401);
    expect(await toolsOf(await newToken(agent))).toEqual(['web_search']);
  });

  it("answers an agent's whoami, by key or token, as it is now after each change (the answer is kept between writes)", async () => {
    const agent = await agentWithToken('kept-answer', { allowed_tools: ['web_search'] });
    const asKey = async () => (await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': agent.key } })).body;
    expect(await asKey()).toMatchObject({ tools: ['web_search'], approval_required_tools: [] });
    expect(await asKey()).toMatchObject({ tools: ['web_search'] });
    await t.request('POST', '/admin/agents/kept-answer/tools', { token: admin, body: { tools: ['calculator'] } });
    expect(await asKey()).toMatchObject({ tools: ['calculator', 'web_search'], permissions_version: 2 });
    await t.request('PUT', '/admin/agents/kept-answer/approval-required-tools', {
      token: admin,
      body: { tools: ['calculator'] },
    });
    expect(await asKey()).toMatchObject({ approval_required_tools: ['calculator'] });
    await t.request('PATCH', '/admin/agents/kept-answer', { token: admin, body: { description: 'renamed role' } });
    expect((await asKey()).agent.description).toBe('renamed role');
    // A token's claims outlive such a change (it does not touch permissions): its answer follows too.
    const token = await newToken(agent);
    const asToken = async () => (await t.request('GET', '/v1/whoami', { token })).body;
    expect((await asToken()).agent.description).toBe('renamed role');
    await t.request('PATCH', '/admin/agents/kept-answer', { token: admin, body: { description: 'again' } });
    expect((await asToken()).agent.description).toBe('again');
  });

  it('bounds ["*"] by the granting admin\'s ceiling, and refuses tools beyond it', async () => {
    const ada = await adminWithCeiling('ada', ['web_search', 'calculator', 'unregistered_tool']);
    await t.request('POST', '/admin/agents', { token: ada, body: { name: 'bounded' } });
    const star = await t.request('POST', '/admin/agents/bounded/tools', { token: ada, body: { tools: ['*'] } });
    expect(star.body.allowed_tools).toEqual(['calculator', 'web_search']);
    const beyond = await t.request('POST', '/admin/agents/bounded/tools', {
      token: ada,
      body: { tools: ['execute_code'] },
    });
    expect(beyond.status).toBe(403);
    expect(beyond.body.detail).toContain('execute_code');

    // A super_admin's "*" is every registered tool.
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'unbounded' } });
    const all = await t.request('POST', '/admin/agents/unbounded/tools', { token: admin, body: { tools: ['*'] } });
    expect(all.body.allowed_tools).toEqual(['calculator', 'execute_code', 'file_reader', 'send_email', 'web_search']);
  });

  it('lets only a super_admin set approval-required tools; the change ends existing tokens', async () => {
    const ada = await adminWithCeiling('bea', '*');
    const agent = await agentWithToken('careful', { allowed_tools: ['send_email'] });
    const refused = await t.request('PUT', '/admin/agents/careful/approval-required-tools', {
      token: ada,
      body: { tools: ['send_email'] },
    });
    expect(refused.status).toBe(403);

    expect((await authorize(agent.token, 'send_email')).allowed).toBe(true);
    const set = await t.request('PUT', '/admin/agents/careful/approval-required-tools', {
      token: admin,
      body: { tools: ['send_email', 'execute_code'] },
    });
    expect(set.body).toMatchObject({ approval_required_tools: ['execute_code', 'send_email'], permissions_version: 2 });
    expect(
      (await t.request('POST', '/v1/authorize', { token: agent.token, body: { tool: 'send_email' } })).status,
    ).toBe(401);
    const fresh = await newToken(agent);
    expect((await authorize(fresh, 'send_email')).approval_required).toBe(true);

    // An empty list restores fully autonomous operation.
    await t.request('PUT', '/admin/agents/careful/approval-required-tools', { token: admin, body: { tools: [] } });
    expect((await authorize(await newToken(agent), 'send_email')).allowed).toBe(true);
  });

  it("adds role tools to an agent; changing the role ends every holder's tokens", async () => {
    const role = await t.request('POST', '/admin/roles', {
      token: admin,
      body: { name: 'code-executor', description: 'Runs code', tools: ['execute_code', 'file_reader'] },
    });
    expect(role.status).toBe(201);
    expect(
      (await t.request('POST', '/admin/roles', { token: admin, body: { name: 'code-executor', tools: [] } })).status,
    ).toBe(409);

    const holder = await agentWithToken('coder', { allowed_tools: ['web_search'] });
    const assigned = await t.request('POST', '/admin/agents/coder/roles', {
      token: admin,
      body: { role: 'code-executor' },
    });
    expect(assigned.body.map((r: { name: string }) => r.name)).toEqual(['code-executor']);
    expect((await t.request('GET', '/v1/whoami', { token: holder.token })).status).toBe(401);
    const token = await newToken(holder);
    expect(await toolsOf(token)).toEqual(['execute_code', 'file_reader', 'web_search']);
    expect((await t.request('GET', '/v1/agents/coder/roles', { token: admin })).body[0]).toMatchObject({
      name: 'code-executor',
      tools: ['execute_code', 'file_reader'],
    });

    const updated = await t.request('PATCH', '/admin/roles/code-executor', {
      token: admin,
      body: { tools: ['execute_code'] },
    });
    expect(updated.body.tools).toEqual(['execute_code']);
    expect((await t.request('GET', '/v1/whoami', { token })).status).toBe(401);
    const after = await newToken(holder);
    expect(await toolsOf(after)).toEqual(['execute_code', 'web_search']);

    // The console's view: grants, roles and what they add up to, at the current version.
    const permissions = (await t.request('GET', '/v1/agents/coder/permissions', { token: admin })).body;
    expect(permissions).toMatchObject({
      allowed_tools: ['web_search'],
      roles: [{ name: 'code-executor', tools: ['execute_code'] }],
      effective_tools: ['execute_code', 'web_search'],
    });
    const coder = (await t.request('GET', '/v1/agents/coder', { token: admin })).body;
    expect(permissions.permissions_version).toBe(coder.permissions_version);

    // A description-only change leaves tokens alone.
    await t.request('PATCH', '/admin/roles/code-executor', { token: admin, body: { description: null } });
    expect((await t.request('GET', '/v1/whoami', { token: after })).status).toBe(200);
  });

  it('removes an assignment with 204, and deleting a role takes its tools from every holder', async () => {
    await t.request('POST', '/admin/roles', { token: admin, body: { name: 'mailer', tools: ['send_email'] } });
    const a = await agentWithToken('mail-a');
    const b = await agentWithToken('mail-b');
    for (const name of ['mail-a', 'mail-b'])
      await t.request('POST', `/admin/agents/${name}/roles`, { token: admin, body: { role: 'mailer' } });

    const removed = await t.request('DELETE', '/admin/agents/mail-a/roles/mailer', { token: admin });
    expect(removed.status).toBe(204);
    expect((await t.request('DELETE', '/admin/agents/mail-a/roles/mailer', { token: admin })).status).toBe(404);
    expect(await toolsOf(await newToken(a))).toEqual([]);

    const tokenB = await newToken(b);
    expect(await toolsOf(tokenB)).toEqual(['send_email']);
    expect((await t.request('DELETE', '/admin/roles/mailer', { token: admin })).status).toBe(204);
    expect((await t.request('GET', '/v1/whoami', { token: tokenB })).status).toBe(401);
    expect(await toolsOf(await newToken(b))).toEqual([]);
    expect(
      (await t.request('GET', '/v1/roles', { token: admin })).body.map((r: { name: string }) => r.name),
    ).not.toContain('mailer');
  });

  it('will not let an admin assign a role whose tools exceed their ceiling', async () => {
    const cam = await adminWithCeiling('cam', ['web_search']);
    await t.request('POST', '/admin/roles', { token: admin, body: { name: 'powerful', tools: ['execute_code'] } });
    await t.request('POST', '/admin/agents', { token: cam, body: { name: 'cams-agent' } });
    const refused = await t.request('POST', '/admin/agents/cams-agent/roles', {
      token: cam,
      body: { role: 'powerful' },
    });
    expect(refused.status).toBe(403);
  });

  it('holds the ceiling on every other way to hand out tools: a new agent, a role, a user', async () => {
    const fay = await adminWithCeiling('fay', ['web_search']);
    const asFay = (method: string, path: string, body: unknown) => t.request(method, path, { token: fay, body });

    const agent = await asFay('POST', '/admin/agents', { name: 'fays-agent', allowed_tools: ['execute_code'] });
    expect(agent.status).toBe(403);
    expect(agent.body.detail).toContain('execute_code');
    expect((await t.request('GET', '/v1/agents/fays-agent', { token: admin })).status).toBe(404);
    expect((await asFay('POST', '/admin/agents', { name: 'fays-agent', allowed_tools: ['web_search'] })).status).toBe(
      201,
    );

    // A role she could assign must not be widened afterwards, past what she may grant.
    expect((await asFay('POST', '/admin/roles', { name: 'fay-wide', tools: ['send_email'] })).status).toBe(403);
    expect((await asFay('POST', '/admin/roles', { name: 'searcher', tools: ['web_search'] })).status).toBe(201);
    expect((await asFay('POST', '/admin/agents/fays-agent/roles', { role: 'searcher' })).status).toBe(200);
    const widened = await asFay('PATCH', '/admin/roles/searcher', { tools: ['web_search', 'send_email'] });
    expect(widened.status).toBe(403);
    expect((await t.request('GET', '/v1/roles', { token: admin })).body).toContainEqual(
      expect.objectContaining({ name: 'searcher', tools: ['web_search'] }),
    );

    // Nor can she give anyone, herself included, a wider ceiling than her own.
    const me = (await t.request('GET', '/v1/whoami', { token: fay })).body.user;
    expect((await asFay('PATCH', `/admin/users/${me.id}`, { tool_ceiling: '*' })).status).toBe(403);
    expect((await asFay('PATCH', `/admin/users/${me.id}`, { tool_ceiling: ['web_search', 'send_email'] })).status).toBe(
      403,
    );
    const user = { password: 'a long enough password', role: 'admin' };
    expect((await asFay('POST', '/admin/users', { ...user, username: 'gus', tool_ceiling: '*' })).status).toBe(403);
    expect(
      (await asFay('POST', '/admin/users', { ...user, username: 'gus', tool_ceiling: ['web_search'] })).status,
    ).toBe(201);
  });

  it("narrows a token a human exchanged to that human's ceiling", async () => {
    const dee = await adminWithCeiling('dee', ['web_search']);
    const agent = await agentWithToken('shared', { allowed_tools: ['web_search', 'calculator'] });
    const exchanged = (await t.request('POST', '/v1/agent-token', { token: dee, body: { agent: 'shared' } })).body;
    expect(await toolsOf(exchanged.access_token)).toEqual(['web_search']);
    expect((await authorize(exchanged.access_token, 'calculator')).allowed).toBe(false);
    expect((await authorize(agent.token, 'calculator')).allowed).toBe(true);
  });

  it('audits every change to what an agent may do', async () => {
    const types = (await t.request('GET', '/v1/audit?limit=1000', { token: admin })).body.map(
      (e: { event_type: string }) => e.event_type,
    );
    for (const type of [
      'tool.created',
      'tool.deleted',
      'agent.tools_granted',
      'agent.tools_revoked',
      'agent.approval_tools_set',
      'role.created',
      'role.updated',
      'role.deleted',
      'agent.role_assigned',
      'agent.role_removed',
    ])
      expect(types).toContain(type);
  });
});
