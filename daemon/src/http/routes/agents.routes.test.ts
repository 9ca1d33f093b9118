import { createHash, createPublicKey } from 'node:crypto';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('agents', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const create = (body: Record<string, unknown>) => t.request('POST', '/admin/agents', { token: admin, body });
  const keychain = (account: string) => keytar.getPassword(t.keychainService, account);

  it('creates an agent with a trimmed name and an Ed25519 identity whose private key is only in the keychain', async () => {
    const created = await create({ name: '  researcher ', description: 'Reads papers', scopes: ['papers:read'] });
    expect(created.status).toBe(201);
    const agent = created.body;
    expect(agent).toMatchObject({
      name: 'researcher',
      description: 'Reads papers',
      status: 'active',
      revoked: false,
      permissions_version: 1,
      capability_role: 'worker',
      scopes: ['papers:read'],
      created_by: expect.any(String),
    });
    expect(agent.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    expect(agent).not.toHaveProperty('agent_key');

    const der = createPublicKey(agent.public_key).export({ type: 'spki', format: 'der' });
    expect(createPublicKey(agent.public_key).asymmetricKeyType).toBe('ed25519');
    expect(agent.key_fingerprint).toBe(`sha256:${createHash('sha256').update(der).digest('hex')}`);
    const privatePem = await keychain(`agent-identity:${agent.id}`);
    expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(JSON.stringify(agent)).not.toContain('PRIVATE KEY');
  });

  it('refuses bad names with 400 per field', async () => {
    for (const name of ['', '   ', 'a/b', 'x'.repeat(65)]) {
      const refused = await create({ name });
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
    }
  });

  it('allows exactly one of 50 racing creates of the same name; the rest get 409', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => create({ name: 'racer' })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(results.find((r) => r.status === 409)!.body.code).toBe('conflict');
    expect((await t.request('GET', '/v1/agents?q=racer', { token: admin })).body).toHaveLength(1);
  });

  it('issues a key with the agent when asked, saved in the keychain under the key id and the alias', async () => {
    const created = await create({ name: 'with-key', issue_key: true });
    const key = created.body.agent_key;
    expect(key.api_key).toMatch(/^agent_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
    // The location an agent reads: the alias, which always holds its newest active key.
    expect(key.keychain).toEqual({ service: t.keychainService, account: 'agent:default/with-key' });
    expect(await keychain(`agent-key:${key.id}`)).toBe(key.api_key);
    expect(await keychain('agent:default/with-key')).toBe(key.api_key);
  });

  it('lists with status, q, limit and offset, and X-Total-Count', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) await create({ name });
    await t.request('POST', '/v1/agents/page-2/suspend', { token: admin });

    const page = await t.request('GET', '/v1/agents?q=page-&limit=2&offset=0', { token: admin });
    expect(page.headers.get('x-total-count')).toBe('3');
    expect(page.body).toHaveLength(2);
    const suspended = await t.request('GET', '/v1/agents?status=suspended', { token: admin });
    expect(suspended.body.map((a: { name: string }) => a.name)).toEqual(['page-2']);
    expect((await t.request('GET', '/v1/agents?limit=1001', { token: admin })).status).toBe(400);
    expect((await t.request('GET', '/v1/agents?status=sleeping', { token: admin })).status).toBe(400);
  });

  it('gets an agent by name or by id, and 404 for neither', async () => {
    const agent = (await create({ name: 'lookup' })).body;
    expect((await t.request('GET', '/v1/agents/lookup', { token: admin })).body.id).toBe(agent.id);
    expect((await t.request('GET', `/v1/agents/${agent.id}`, { token: admin })).body.name).toBe('lookup');
    const missing = await t.request('GET', '/v1/agents/nobody', { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
  });

  it('patches with null-pointer semantics: absent stays, null clears', async () => {
    await create({ name: 'patchy', description: 'first', model: 'claude', history_limit: 10 });
    const changed = await t.request('PATCH', '/admin/agents/patchy', { token: admin, body: { model: 'gpt' } });
    expect(changed.body).toMatchObject({ description: 'first', model: 'gpt', history_limit: 10 });
    const cleared = await t.request('PATCH', '/admin/agents/patchy', {
      token: admin,
      body: { description: null, history_limit: null },
    });
    expect(cleared.body).toMatchObject({ description: null, model: 'gpt', history_limit: null });
    expect((await t.request('PATCH', '/admin/agents/patchy', { token: admin, body: { colour: 'red' } })).status).toBe(
      400,
    );
  });

  it('renames, moving the keychain alias, and refuses a rename onto a taken name', async () => {
    const key = (await create({ name: 'old-name', issue_key: true })).body.agent_key;
    await create({ name: 'taken' });
    expect((await t.request('PATCH', '/admin/agents/old-name', { token: admin, body: { name: 'taken' } })).status).toBe(
      409,
    );
    const renamed = await t.request('PATCH', '/admin/agents/old-name', { token: admin, body: { name: 'new-name' } });
    expect(renamed.body.name).toBe('new-name');
    expect(await keychain('agent:default/old-name')).toBeNull();
    expect(await keychain('agent:default/new-name')).toBe(key.api_key);
  });

  it('deletes for good: the row, its keys and every keychain entry', async () => {
    const created = (await create({ name: 'doomed', issue_key: true })).body;
    const deleted = await t.request('DELETE', '/admin/agents/doomed', { token: admin });
    expect(deleted.body).toEqual({ deleted: 'doomed' });
    expect((await t.request('GET', '/v1/agents/doomed', { token: admin })).status).toBe(404);
    for (const account of [`agent-key:${created.agent_key.id}`, 'agent:default/doomed', `agent-identity:${created.id}`])
      expect(await keychain(account), account).toBeNull();
    // The key stops working at once.
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': created.agent_key.api_key } })).status).toBe(
      401,
    );
  });

  it('suspends and resumes under both route names', async () => {
    await create({ name: 'sleeper' });
    expect((await t.request('POST', '/v1/agents/sleeper/suspend', { token: admin })).body.status).toBe('suspended');
    expect((await t.request('POST', '/v1/agents/sleeper/reactivate', { token: admin })).body.status).toBe('active');
    const suspended = await t.request('POST', '/admin/agents/sleeper/revoke', { token: admin });
    expect(suspended.body).toMatchObject({ status: 'suspended', revoked: true });
    expect((await t.request('POST', '/admin/agents/sleeper/unrevoke', { token: admin })).body).toMatchObject({
      status: 'active',
      revoked: false,
    });
  });

  it('revokes permanently with DELETE /v1/agents/{id}: it cannot be resumed', async () => {
    const agent = (await create({ name: 'retired', issue_key: true })).body;
    const revoked = await t.request('DELETE', `/v1/agents/${agent.id}`, { token: admin });
    expect(revoked.body).toEqual({ id: agent.id, status: 'revoked', revoked_at: expect.any(String) });
    const resumed = await t.request('POST', '/v1/agents/retired/reactivate', { token: admin });
    expect(resumed.status).toBe(409);
    expect(resumed.body.code).toBe('conflict');
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': agent.agent_key.api_key } })).status).toBe(
      401,
    );
  });

  it('needs project admin for writes: a viewer member reads but cannot create', async () => {
    const user = (
      await t.request('POST', '/admin/users', {
        token: admin,
        body: { username: 'reader', password: 'a long enough password' },
      })
    ).body;
    const project = (await t.request('GET', '/admin/projects', { token: admin })).body[0];
    await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    const reader = (await t.login('reader', 'a long enough password')).body.access_token;
    expect((await t.request('GET', '/v1/agents', { token: reader })).status).toBe(200);
    const refused = await t.request('POST', '/admin/agents', { token: reader, body: { name: 'nope' } });
    expect(refused.status).toBe(403);
  });
});

describe('AgentAuth seed: POST /v1/agents', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  it('creates an agent as the seed shows, authenticated by an X-API-Key, with the secret shown once', async () => {
    const me = (await t.request('GET', '/v1/whoami', { token: admin })).body.user;
    const personal = (await t.request('POST', `/admin/users/${me.id}/tokens`, { token: admin, body: {} })).body.token;
    const created = await t.request('POST', '/v1/agents', {
      headers: { 'x-api-key': personal },
      body: { name: 'payment-processor', scopes: ['payments:read', 'payments:write'] },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(
      ['created_at', 'id', 'key_fingerprint', 'name', 'public_key', 'scopes', 'secret', 'status'].sort(),
    );
    expect(created.body).toMatchObject({
      name: 'payment-processor',
      scopes: ['payments:read', 'payments:write'],
      status: 'active',
      public_key: expect.stringMatching(/^-----BEGIN PUBLIC KEY-----\n/),
      key_fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });

    const fetched = await t.request('GET', `/v1/agents/${created.body.id}`, { headers: { 'x-api-key': personal } });
    expect(fetched.body).toMatchObject({ id: created.body.id, last_auth_at: null });
    expect(JSON.stringify(fetched.body)).not.toContain(created.body.secret);
    const listed = await t.request('GET', '/v1/agents?status=active&limit=20&offset=0', {
      headers: { 'x-api-key': personal },
    });
    expect(listed.body.map((a: { name: string }) => a.name)).toEqual(['payment-processor']);
  });
});
