import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('users', () => {
  let t: TestDaemon;
  let root: string;
  let rootId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    root = (await t.setupAdmin()).access_token;
    rootId = (await t.request('GET', '/v1/whoami', { token: root })).body.user.id;
  });
  afterAll(() => t.dispose());

  const createUser = (token: string, body: Record<string, unknown>) =>
    t.request('POST', '/admin/users', { token, body: { password: 'a long enough password', ...body } });
  const signIn = async (username: string) =>
    (await t.login(username, 'a long enough password')).body.access_token as string;

  it('creates viewers by default, refuses a taken username or email with 409', async () => {
    const created = await createUser(root, { username: 'erin', email: 'erin@example.com' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'erin', role: 'viewer', tool_ceiling: [], disabled: false });

    expect((await createUser(root, { username: 'erin' })).status).toBe(409);
    const sameEmail = await createUser(root, { username: 'erin2', email: 'ERIN@example.com' });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.code).toBe('conflict');
  });

  it('lists with q, limit and offset, and X-Total-Count', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) await createUser(root, { username: name });
    const page = await t.request('GET', '/admin/users?q=list-&limit=2&offset=1', { token: root });
    expect(page.status).toBe(200);
    expect(page.headers.get('x-total-count')).toBe('3');
    expect(page.body.map((u: { username: string }) => u.username)).toEqual(['list-b', 'list-c']);
    // A LIKE wildcard in q is matched literally.
    expect((await t.request('GET', '/admin/users?q=%25', { token: root })).body).toEqual([]);
    expect((await t.request('GET', '/admin/users?limit=1001', { token: root })).status).toBe(400);
  });

  it('keeps viewers out of user administration', async () => {
    await createUser(root, { username: 'vic' });
    const vic = await signIn('vic');
    const refused = await t.request('GET', '/admin/users', { token: vic });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
  });

  it('lets an admin manage users but not create, promote or change a super_admin', async () => {
    await createUser(root, { username: 'ada', role: 'admin' });
    const ada = await signIn('ada');
    expect((await createUser(ada, { username: 'sam', role: 'super_admin' })).status).toBe(403);
    const bob = (await createUser(ada, { username: 'bob' })).body;
    expect(
      (await t.request('PATCH', `/admin/users/${bob.id}`, { token: ada, body: { role: 'super_admin' } })).status,
    ).toBe(403);
    expect((await t.request('PATCH', `/admin/users/${rootId}`, { token: ada, body: { disabled: true } })).status).toBe(
      403,
    );
    expect((await t.request('DELETE', `/admin/users/${rootId}`, { token: ada })).status).toBe(403);
  });

  it('treats an absent field as unchanged and an explicit null email as cleared', async () => {
    const user = (await createUser(root, { username: 'nell', email: 'nell@example.com' })).body;
    const roleOnly = await t.request('PATCH', `/admin/users/${user.id}`, { token: root, body: { role: 'admin' } });
    expect(roleOnly.body).toMatchObject({ role: 'admin', email: 'nell@example.com' });
    const cleared = await t.request('PATCH', `/admin/users/${user.id}`, { token: root, body: { email: null } });
    expect(cleared.body).toMatchObject({ role: 'admin', email: null });
    const unknown = await t.request('PATCH', `/admin/users/${user.id}`, { token: root, body: { username: 'x' } });
    expect(unknown.status).toBe(400);
  });

  it('ends every session of a user who is disabled, at once', async () => {
    await createUser(root, { username: 'dora' });
    const dora = await signIn('dora');
    const id = (await t.request('GET', '/v1/whoami', { token: dora })).body.user.id;
    await t.request('PATCH', `/admin/users/${id}`, { token: root, body: { disabled: true } });
    const after = await t.request('GET', '/v1/whoami', { token: dora });
    expect(after.status).toBe(401);
  });

  it('never demotes, disables or deletes the last active super_admin', async () => {
    for (const body of [{ role: 'admin' }, { disabled: true }]) {
      const refused = await t.request('PATCH', `/admin/users/${rootId}`, { token: root, body });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('last_super_admin');
    }
    expect((await t.request('DELETE', `/admin/users/${rootId}`, { token: root })).body.code).toBe('last_super_admin');

    // With a second super_admin the first may step down.
    await createUser(root, { username: 'second', role: 'super_admin' });
    const demoted = await t.request('PATCH', `/admin/users/${rootId}`, { token: root, body: { role: 'admin' } });
    expect(demoted.status).toBe(200);
  });

  it('answers 404 for an unknown user and 400 for a malformed id', async () => {
    const missing = await t.request('DELETE', '/admin/users/00000000-0000-4000-8000-000000000000', {
      token: (await t.login('second', 'a long enough password')).body.access_token,
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    expect((await t.request('DELETE', '/admin/users/not-a-uuid', { token: root })).status).toBe(400);
  });
});

describe('projects and memberships', () => {
  let t: TestDaemon;
  let root: string;
  beforeAll(async () => ({ t, admin: root } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const userWithToken = async (username: string) => {
    const user = (
      await t.request('POST', '/admin/users', { token: root, body: { username, password: 'a long enough password' } })
    ).body;
    return {
      id: user.id as string,
      token: (await t.login(username, 'a long enough password')).body.access_token as string,
    };
  };

  it('creates a project with a unique slug; its creator becomes its admin', async () => {
    const created = await t.request('POST', '/admin/projects', { token: root, body: { name: 'Research Lab' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Research Lab', slug: 'research-lab' });
    expect((await t.request('POST', '/admin/projects', { token: root, body: { name: 'Research lab' } })).status).toBe(
      409,
    );
    const members = await t.request('GET', `/admin/projects/${created.body.id}/members`, { token: root });
    expect(members.body).toEqual([expect.objectContaining({ username: 'admin', privilege: 1 })]);
  });

  it('shows a viewer only the projects they belong to', async () => {
    const project = (await t.request('POST', '/admin/projects', { token: root, body: { name: 'Ops' } })).body;
    const pat = await userWithToken('pat');
    const before = await t.request('GET', '/admin/projects', { token: pat.token });
    expect(before.body).toEqual([]);

    await t.request('PUT', `/admin/projects/${project.id}/members/${pat.id}`, { token: root, body: { privilege: 2 } });
    const after = await t.request('GET', '/admin/projects', { token: pat.token });
    expect(after.body.map((p: { slug: string }) => p.slug)).toEqual(['ops']);

    // A member (privilege 2) reads the member list but cannot change it.
    expect((await t.request('GET', `/admin/projects/${project.id}/members`, { token: pat.token })).status).toBe(200);
    const refused = await t.request('PUT', `/admin/projects/${project.id}/members/${pat.id}`, {
      token: pat.token,
      body: { privilege: 1 },
    });
    expect(refused.status).toBe(403);
  });

  it('scopes agent routes to the project named in X-Project-Id, refusing non-members', async () => {
    const project = (await t.request('POST', '/admin/projects', { token: root, body: { name: 'Private' } })).body;
    const outsider = await userWithToken('outsider');
    const refused = await t.request('GET', '/v1/agents', {
      token: outsider.token,
      headers: { 'x-project-id': project.id },
    });
    expect(refused.status).toBe(403);
    const unknown = await t.request('GET', '/v1/agents', {
      token: root,
      headers: { 'x-project-id': 'no-such-project' },
    });
    expect(unknown.status).toBe(404);
  });

  it('removes a membership with 204, then 404 for a second removal', async () => {
    const project = (await t.request('POST', '/admin/projects', { token: root, body: { name: 'Temp' } })).body;
    const kim = await userWithToken('kim');
    await t.request('PUT', `/admin/projects/${project.id}/members/${kim.id}`, { token: root, body: { privilege: 2 } });
    const listAgents = () =>
      t.request('GET', '/v1/agents', { token: kim.token, headers: { 'x-project-id': project.id } });
    expect((await listAgents()).status).toBe(200);
    const removed = await t.request('DELETE', `/admin/projects/${project.id}/members/${kim.id}`, { token: root });
    expect(removed.status).toBe(204);
    // The member's resolved scope was cached by the request above: the removal applies at once all the same.
    expect((await listAgents()).status).toBe(403);
    expect((await t.request('DELETE', `/admin/projects/${project.id}/members/${kim.id}`, { token: root })).status).toBe(
      404,
    );
  });
});
