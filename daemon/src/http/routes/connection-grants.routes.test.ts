import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { patternWithin } from '../../domain/connections/connections.service.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

/** An upstream on loopback that answers every request with its method and path. */
function echoUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end(JSON.stringify({ method: request.method, url: request.url })));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe('grants of a connection, narrowed to methods and paths', () => {
  let t: TestDaemon;
  let admin: string;
  let up: Awaited<ReturnType<typeof echoUpstream>>;
  const keys: Record<string, string> = {};

  const put = (path: string, body: unknown, token = admin) => t.request('PUT', path, { token, body });
  const broker = (agent: string, method: string, path: string) =>
    fetch(`${t.url}/proxy/api${path}`, { method, headers: { authorization: `Bearer ${keys[agent]}` } });

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    up = await echoUpstream();
    const created = await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'api',
        base_url: up.url,
        secret: 'sk-grant-rules-secret',
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        allowed_methods: ['GET', 'POST'],
        allowed_paths: ['/v1/**'],
      },
    });
    expect(created.status).toBe(201);
    for (const name of ['reader', 'writer', 'member']) {
      const agent = await t.request('POST', '/admin/agents', { token: admin, body: { name, issue_key: true } });
      keys[name] = agent.body.agent_key.api_key;
    }
    await t.request('POST', '/admin/roles', { token: admin, body: { name: 'readers', tools: [] } });
  });
  afterAll(async () => {
    up.server.close();
    await t.dispose();
  });

  it('grants an agent the connection narrowed, and lists the grant with its narrowing (200)', async () => {
    const granted = await put('/admin/connections/api/grants/agents/reader', {
      allowed_methods: ['GET'],
      allowed_paths: ['/v1/models', '/v1/models/*'],
    });
    expect(granted.status).toBe(200);
    expect(granted.body).toEqual({
      subject: 'agent',
      name: 'reader',
      allowed_methods: ['GET'],
      allowed_paths: ['/v1/models', '/v1/models/*'],
    });
    const agent = await t.request('GET', '/v1/agents/reader/permissions', { token: admin });
    expect(agent.body.effective_tools).toContain('connection:api');
    const listed = await t.request('GET', '/v1/connections/api/grants', { token: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([granted.body]);
  });

  it('refuses a grant wider than its connection (400 grant_wider_than_connection), changing nothing', async () => {
    const method = await put('/admin/connections/api/grants/agents/writer', { allowed_methods: ['DELETE'] });
    expect(method.status).toBe(400);
    expect(method.body.code).toBe('grant_wider_than_connection');
    const path = await put('/admin/connections/api/grants/agents/writer', { allowed_paths: ['/admin/**'] });
    expect(path.body.code).toBe('grant_wider_than_connection');
    // `*` within a segment is narrower than the connection's `**`; `**` is not narrower than `*`.
    const across = await put('/admin/connections/api/grants/roles/readers', { allowed_paths: ['/v1/*/**'] });
    expect(across.status).toBe(200);
    const listed = await t.request('GET', '/v1/connections/api/grants', { token: admin });
    expect(listed.body.map((grant: { name: string }) => grant.name)).toEqual(['reader', 'readers']);
  });

  it('answers 400 for a method that is not one, 404 for an unknown connection, agent or role', async () => {
    expect((await put('/admin/connections/api/grants/agents/reader', { allowed_methods: ['FETCH'] })).status).toBe(400);
    expect((await put('/admin/connections/api/grants/agents/reader', { extra: true })).status).toBe(400);
    expect((await put('/admin/connections/nope/grants/agents/reader', {})).body.code).toBe('not_found');
    expect((await put('/admin/connections/api/grants/agents/nobody', {})).body.code).toBe('not_found');
    expect((await put('/admin/connections/api/grants/roles/nobody', {})).status).toBe(404);
    expect((await t.request('GET', '/v1/connections/nope/grants', { token: admin })).status).toBe(404);
    const notHeld = await t.request('DELETE', '/admin/connections/api/grants/agents/writer', { token: admin });
    expect(notHeld.status).toBe(404);
  });

  it('answers 401 without a credential and 403 to an admin whose ceiling lacks the connection', async () => {
    expect((await t.request('PUT', '/admin/connections/api/grants/agents/reader', { body: {} })).status).toBe(401);
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'narrow', password: 'a long enough password', role: 'admin', tool_ceiling: [] },
    });
    const users = (await t.request('GET', '/admin/users', { token: admin })).body as Array<{
      id: string;
      username: string;
    }>;
    const project = (await t.request('GET', '/v1/whoami', { token: admin })).body.project;
    await put(`/admin/projects/${project.id}/members/${users.find((u) => u.username === 'narrow')!.id}`, {
      privilege: 1,
    });
    const narrow = (await t.login('narrow', 'a long enough password')).body.access_token as string;
    const refused = await put('/admin/connections/api/grants/agents/writer', {}, narrow);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('forbidden');
  });

  it('the broker holds an agent to its grant’s narrowing, within the connection’s rules', async () => {
    expect((await broker('reader', 'GET', '/v1/models')).status).toBe(200);
    expect((await broker('reader', 'GET', '/v1/models/gpt')).status).toBe(200);
    const post = await broker('reader', 'POST', '/v1/models');
    expect(post.status).toBe(403);
    expect(((await post.json()) as { code: string }).code).toBe('path_not_allowed');
    expect(((await (await broker('reader', 'GET', '/v1/chat')).json()) as { code: string }).code).toBe(
      'path_not_allowed',
    );
    // The connection's own rules still hold under a grant without a narrowing.
    expect((await put('/admin/connections/api/grants/agents/writer', {})).status).toBe(200);
    expect((await broker('writer', 'POST', '/v1/chat')).status).toBe(200);
    expect((await broker('writer', 'DELETE', '/v1/chat')).status).toBe(403);
    expect((await broker('writer', 'GET', '/v2/chat')).status).toBe(403);
  });

  it('an agent holding the connection through several grants may make a call any one allows', async () => {
    // `member` holds it only through the role `readers` (narrowed to /v1/*/**).
    await t.request('POST', '/admin/agents/member/roles', { token: admin, body: { role: 'readers' } });
    expect((await broker('member', 'GET', '/v1/files/a')).status).toBe(200);
    expect((await broker('member', 'GET', '/v1/files')).status).toBe(403);
    // A direct grant narrowed elsewhere adds to what the role allows.
    await put('/admin/connections/api/grants/agents/member', { allowed_paths: ['/v1/files'] });
    expect((await broker('member', 'GET', '/v1/files')).status).toBe(200);
    expect((await broker('member', 'GET', '/v1/files/a')).status).toBe(200);
    // Changing the role's narrowing takes effect on the next call.
    await put('/admin/connections/api/grants/roles/readers', { allowed_paths: ['/v1/images/**'] });
    expect((await broker('member', 'GET', '/v1/files/a')).status).toBe(403);
    expect((await broker('member', 'GET', '/v1/images/a')).status).toBe(200);
  });

  it('a revoked grant takes its narrowing with it; granting again starts from the connection’s rules', async () => {
    expect((await t.request('DELETE', '/admin/connections/api/grants/agents/reader', { token: admin })).status).toBe(
      204,
    );
    expect(((await (await broker('reader', 'GET', '/v1/models')).json()) as { code: string }).code).toBe(
      'connection_not_granted',
    );
    await t.request('POST', '/admin/agents/reader/tools', { token: admin, body: { tools: ['connection:api'] } });
    expect((await broker('reader', 'POST', '/v1/chat')).status).toBe(200);
    // The same through the plain revoke route, and through a role losing the connection.
    await put('/admin/connections/api/grants/agents/reader', { allowed_methods: ['GET'] });
    await t.request('DELETE', '/admin/agents/reader/tools', { token: admin, body: { tools: ['connection:api'] } });
    await t.request('POST', '/admin/agents/reader/tools', { token: admin, body: { tools: ['connection:api'] } });
    expect((await broker('reader', 'POST', '/v1/chat')).status).toBe(200);
    await t.request('PATCH', '/admin/roles/readers', { token: admin, body: { tools: [] } });
    await t.request('PATCH', '/admin/roles/readers', { token: admin, body: { tools: ['connection:api'] } });
    const listed = await t.request('GET', '/v1/connections/api/grants', { token: admin });
    expect(listed.body).toContainEqual({ subject: 'role', name: 'readers', allowed_methods: [], allowed_paths: [] });
    expect((await t.request('DELETE', '/admin/connections/api/grants/roles/readers', { token: admin })).status).toBe(
      204,
    );
  });
});

describe('patternWithin', () => {
  it.each([
    ['/v1/models', '/v1/**', true],
    ['/v1/*/files', '/v1/**', true],
    ['/v1/**', '/v1/*', false],
    ['/v1/a*', '/v1/*', true],
    ['/v1/*', '/v1/a*', false],
    ['/v2/x', '/v1/**', false],
    ['/v1/**', '/v1/**', true],
    ['/v1/x/y', '/v1/*', false],
    ['/v1/**/files', '/**/files', true],
  ])('%s within %s: %s', (pattern, within, expected) => {
    expect(patternWithin(pattern, within)).toBe(expected);
  });
});
