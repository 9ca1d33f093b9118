import { createHash, createPublicKey } from 'node:crypto';
import keytar from 'keytar';
import { sql } from '../../testing/sql.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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

  it('refuses names with control, zero-width or bidi characters (invalid_name), so none can take over another agent’s keychain entry', async () => {
    const victim = (await create({ name: 'victim', issue_key: true })).body.agent_key.api_key;
    for (const name of [
      'victim\u0000x',
      'victim\nx',
      'victim\u0085',
      'vic\u200btim',
      'victim\u202e',
      'victim\u2066',
      '\ufeffvictim',
    ]) {
      const refused = await create({ name, issue_key: true });
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(refused.body).toMatchObject({ code: 'invalid_name', errors: [{ location: 'body.name' }] });
      expect(refused.body.detail).not.toContain('\u0000');
    }
    expect(await keychain('agent:default/victim')).toBe(victim);
    // Every other kind of name follows the same rule.
    const refusals = [
      ['/admin/projects', { name: 'p\u0000q' }],
      ['/admin/workflows', { name: 'w\u202ex' }],
      ['/admin/tools', { name: 'tool\u0000' }],
      ['/admin/roles', { name: 'role\u200b', tools: [] }],
      ['/admin/users', { username: 'u\u0000v', password: 'a long enough password' }],
      ['/admin/agents', { name: 'granted', allowed_tools: ['web\u0000search'] }],
    ] as const;
    for (const [path, body] of refusals) {
      const refused = await t.request('POST', path, { token: admin, body });
      expect(refused.body.code, path).toBe('invalid_name');
    }
  });

  it('stores names NFC-normalised, so two spellings of one name are one agent', async () => {
    const decomposed = await create({ name: 'Cafe\u0301' });
    expect(decomposed.body.name).toBe('Caf\u00e9');
    expect((await create({ name: 'Caf\u00e9' })).status).toBe(409);
    const found = await t.request('GET', `/v1/agents/${encodeURIComponent('Cafe\u0301')}`, { token: admin });
    expect(found.body.id).toBe(decomposed.body.id);
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

  it('pages the same rows from either end: every offset of every page size matches the whole list', async () => {
    for (let i = 0; i < 7; i++) await create({ name: `walk-${i}` });
    const list = (query: string) => t.request('GET', `/v1/agents?q=walk-&${query}`, { token: admin });
    const whole = (await list('limit=100')).body.map((a: { id: string }) => a.id);
    expect(whole).toHaveLength(7);
    for (const limit of [1, 2, 3, 5]) {
      for (let offset = 0; offset <= 8; offset++) {
        const page = await list(`limit=${limit}&offset=${offset}`);
        expect(page.headers.get('x-total-count')).toBe('7');
        expect(
          page.body.map((a: { id: string }) => a.id),
          `limit ${limit}, offset ${offset}`,
        ).toEqual(whole.slice(offset, offset + limit));
      }
    }
    // The total follows a change at once (it is cached only while nothing is written).
    await create({ name: 'walk-7' });
    expect((await list('limit=1')).headers.get('x-total-count')).toBe('8');
  });

  it('keeps the cached count and credentials through a flush of recorded uses, which show within the minute the SPEC allows', async () => {
    const key = (await create({ name: 'in-use', issue_key: true })).body.agent_key;
    const whoami = () => t.request('GET', '/v1/whoami', { headers: { 'x-api-key': key.api_key } });
    const listed = await t.request('GET', '/v1/agents', { token: admin });
    expect((await whoami()).body.agent.last_auth_at).toBeNull();

    const queries = vi.spyOn(t.daemon.services.db.source.logger, 'logQuery');
    try {
      await t.daemon.services.usage.flush();
      // Neither the count nor the key is read again: the flush wrote only when they were used.
      expect((await t.request('GET', '/v1/agents', { token: admin })).headers.get('x-total-count')).toBe(
        listed.headers.get('x-total-count'),
      );
      const used = await whoami();
      const read = queries.mock.calls.map(([sql]) => sql);
      expect(read.filter((sql) => /COUNT\(\*\)/i.test(sql))).toEqual([]);
      expect(read.filter((sql) => /FROM "agent_keys"/i.test(sql) && /"prefix"/.test(sql))).toEqual([]);
      // …yet the use shows, on whoami and on the agent.
      expect(used.body.agent.last_auth_at).toEqual(expect.any(String));
      const agent = await t.request('GET', '/v1/agents/in-use', { token: admin });
      expect(agent.body.last_auth_at).toBe(used.body.agent.last_auth_at);
      const keys = await t.request('GET', '/v1/agents/in-use/keys', { token: admin });
      expect(keys.body[0].last_used_at).toEqual(expect.any(String));
    } finally {
      queries.mockRestore();
    }
    // A revocation still ends the cached key at once.
    expect((await t.request('DELETE', `/admin/agents/in-use/keys/${key.id}`, { token: admin })).status).toBe(200);
    expect((await whoami()).status).toBe(401);
  });

  it('never replaces a later recorded use with an earlier one (replicas flush in any order)', async () => {
    const key = (await create({ name: 'two-homes', issue_key: true })).body.agent_key;
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': key.api_key } })).status).toBe(200);
    // Another replica saw a use after this one's and has written it already.
    const later = new Date(Date.now() + 60_000).toISOString();
    await sql(
      t,
      `UPDATE agent_keys SET last_used_at = '${later}' WHERE id = '${key.id}';
      UPDATE agents SET last_auth_at = '${later}' WHERE name = 'two-homes'`,
    );
    await t.daemon.services.usage.flush();
    expect((await t.request('GET', '/v1/agents/two-homes', { token: admin })).body.last_auth_at).toBe(later);
    expect((await t.request('GET', '/v1/agents/two-homes/keys', { token: admin })).body[0].last_used_at).toBe(later);
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

describe('agents: paging, projects and the lifecycle edges', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const create = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.request('POST', '/admin/agents', { token: admin, body, headers });
  const keychain = (account: string) => keytar.getPassword(t.keychainService, account);
  const names = (body: Array<{ name: string }>) => body.map((a) => a.name);

  it('pages 20 by default, every agent exactly once across pages, and refuses a bad limit or offset', async () => {
    const created: string[] = [];
    for (let i = 0; i < 23; i++) created.push((await create({ name: `bulk-${String(i).padStart(2, '0')}` })).body.name);

    const first = await t.request('GET', '/v1/agents', { token: admin });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(20);
    expect(first.headers.get('x-total-count')).toBe('23');
    const rest = await t.request('GET', '/v1/agents?offset=20', { token: admin });
    expect(rest.body).toHaveLength(3);
    expect(rest.headers.get('x-total-count')).toBe('23');
    expect([...names(first.body), ...names(rest.body)].sort()).toEqual(created.sort());

    const all = await t.request('GET', '/v1/agents?limit=1000', { token: admin });
    expect(all.body).toHaveLength(23);
    for (const query of ['limit=0', 'limit=1001', 'offset=-1', 'limit=ten']) {
      const refused = await t.request('GET', `/v1/agents?${query}`, { token: admin });
      expect(refused.status, query).toBe(400);
      expect(refused.body.code, query).toBe('validation_failed');
    }
  });

  it('searches the name and the description, literally, and counts only the matches', async () => {
    await create({ name: 'invoicer', description: 'Handles INVOICES for finance' });
    await create({ name: 'percent_50%' });

    const byDescription = await t.request('GET', '/v1/agents?q=INVOICES', { token: admin });
    expect(names(byDescription.body)).toEqual(['invoicer']);
    expect(byDescription.headers.get('x-total-count')).toBe('1');
    // LIKE wildcards in q are matched as themselves.
    expect(
      names((await t.request('GET', `/v1/agents?q=${encodeURIComponent('_50%')}`, { token: admin })).body),
    ).toEqual(['percent_50%']);
    expect((await t.request('GET', `/v1/agents?q=${encodeURIComponent('%')}`, { token: admin })).body).toHaveLength(1);
    const none = await t.request('GET', '/v1/agents?q=nothing-like-this', { token: admin });
    expect(none.body).toEqual([]);
    expect(none.headers.get('x-total-count')).toBe('0');
  });

  it('combines the status filter with paging and the total', async () => {
    for (const name of ['st-a', 'st-b', 'st-c']) await create({ name });
    await t.request('POST', '/v1/agents/st-a/suspend', { token: admin });
    await t.request('POST', '/v1/agents/st-c/suspend', { token: admin });
    const page = await t.request('GET', '/v1/agents?status=suspended&q=st-&limit=1&offset=1', { token: admin });
    expect(page.headers.get('x-total-count')).toBe('2');
    expect(page.body).toHaveLength(1);
    expect(page.body[0]).toMatchObject({ status: 'suspended', revoked: true });
  });

  it('pages by cursor (X-Next-Cursor, Link rel="next"): a page holds still while agents come and go before it', async () => {
    for (let i = 0; i < 7; i++) await create({ name: `cur-${i}` });
    const list = (query: string) => t.request('GET', `/v1/agents?${query}`, { token: admin });
    const first = await list('q=cur-&limit=3');
    expect(names(first.body)).toEqual(['cur-0', 'cur-1', 'cur-2']);
    const cursor = first.headers.get('x-next-cursor')!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.headers.get('link')).toBe(`</v1/agents?q=cur-&limit=3&cursor=${cursor}>; rel="next"`);

    // One agent before the cursor goes and one comes after it: an offset's next page would skip cur-3.
    await t.request('DELETE', '/admin/agents/cur-0', { token: admin });
    await create({ name: 'cur-7' });
    expect(names((await list('q=cur-&limit=3&offset=3')).body)).toEqual(['cur-4', 'cur-5', 'cur-6']);
    const second = await list(`q=cur-&limit=3&cursor=${cursor}`);
    expect(names(second.body)).toEqual(['cur-3', 'cur-4', 'cur-5']);
    expect(second.headers.get('x-total-count')).toBe('7');

    const next = /^<([^>]+)>; rel="next"$/.exec(second.headers.get('link')!)![1]!;
    const last = await t.request('GET', next, { token: admin });
    expect(names(last.body)).toEqual(['cur-6', 'cur-7']);
    expect(last.headers.get('x-next-cursor')).toBeNull();
    expect(last.headers.get('link')).toBeNull();

    // An offset page names the page after it too, and a filter applies to a cursor's page.
    const byOffset = await list('q=cur-&limit=2&offset=2');
    expect(names(byOffset.body)).toEqual(['cur-3', 'cur-4']);
    const onward = byOffset.headers.get('x-next-cursor')!;
    await t.request('POST', '/v1/agents/cur-5/suspend', { token: admin });
    expect(names((await list(`q=cur-&status=active&cursor=${onward}`)).body)).toEqual(['cur-6', 'cur-7']);
  });

  it('refuses a cursor it did not give, or one sent with an offset: 400 invalid_cursor', async () => {
    const given = (await t.request('GET', '/v1/agents?limit=1', { token: admin })).headers.get('x-next-cursor')!;
    const forged = Buffer.from(JSON.stringify({ v: 2, after: 'x' })).toString('base64url');
    for (const query of ['cursor=garbage', `cursor=${forged}`, `cursor=${given}&offset=1`]) {
      const refused = await t.request('GET', `/v1/agents?${query}`, { token: admin });
      expect(refused.status, query).toBe(400);
      expect(refused.headers.get('content-type'), query).toMatch(/^application\/problem\+json/);
      expect(refused.body.code, query).toBe('invalid_cursor');
    }
    for (const query of ['cursor=', `cursor=${'a'.repeat(257)}`]) {
      const refused = await t.request('GET', `/v1/agents?${query}`, { token: admin });
      expect(refused.status, query).toBe(400);
      expect(refused.body.code, query).toBe('validation_failed');
    }
  });

  it('keeps projects apart: the same name in two projects, aliases named by slug, no reach across', async () => {
    const lab = (await t.request('POST', '/admin/projects', { token: admin, body: { name: 'Research Lab' } })).body;
    const inLab = { 'x-project-id': lab.id };
    const home = (await create({ name: 'twin', issue_key: true })).body;
    const away = (await create({ name: 'twin', issue_key: true }, inLab)).body;
    expect(away.project_id).toBe(lab.id);
    expect(away.id).not.toBe(home.id);

    expect(await keychain('agent:default/twin')).toBe(home.agent_key.api_key);
    expect(await keychain(`agent:${lab.slug}/twin`)).toBe(away.agent_key.api_key);
    expect((await t.request('GET', '/v1/agents/twin', { token: admin, headers: inLab })).body.id).toBe(away.id);
    // An agent of one project is not found from another, by id or by name.
    expect((await t.request('GET', `/v1/agents/${home.id}`, { token: admin, headers: inLab })).status).toBe(404);
    expect((await t.request('DELETE', `/admin/agents/${home.id}`, { token: admin, headers: inLab })).status).toBe(404);
    expect(
      (await t.request('GET', `/v1/agents?q=twin`, { token: admin, headers: { 'x-project-id': lab.slug } })).body,
    ).toHaveLength(1);

    const me = await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': away.agent_key.api_key } });
    expect(me.body).toMatchObject({ principal: 'agent', agent: { id: away.id }, project: { id: lab.id } });
  });

  it('deletes by id: its tokens stop, and a new agent of the same name starts with no keys', async () => {
    const created = (await create({ name: 'reborn', issue_key: true })).body;
    const tokens = (
      await t.request('POST', '/v1/auth/token', { body: { agent_id: created.id, secret: created.agent_key.api_key } })
    ).body;
    expect((await t.request('GET', '/v1/whoami', { token: tokens.access_token })).status).toBe(200);

    const deleted = await t.request('DELETE', `/admin/agents/${created.id}`, { token: admin });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: 'reborn' });
    expect((await t.request('GET', '/v1/whoami', { token: tokens.access_token })).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } })).status,
    ).toBe(401);
    expect((await t.request('DELETE', `/admin/agents/${created.id}`, { token: admin })).status).toBe(404);

    const again = (await create({ name: 'reborn' })).body;
    expect(again.id).not.toBe(created.id);
    expect((await t.request('GET', '/v1/agents/reborn/keys', { token: admin })).body).toEqual([]);
    expect(await keychain('agent:default/reborn')).toBeNull();
    expect(await keychain(`agent-identity:${again.id}`)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('keeps a permanent revoke permanent under every route, and lists it as revoked', async () => {
    const agent = (await create({ name: 'gone-for-good' })).body;
    const first = await t.request('DELETE', `/v1/agents/${agent.id}`, { token: admin });
    expect(first.status).toBe(200);
    const repeated = await t.request('DELETE', '/v1/agents/gone-for-good', { token: admin });
    expect(repeated.body).toEqual(first.body);

    for (const [method, path] of [
      ['POST', '/admin/agents/gone-for-good/unrevoke'],
      ['POST', '/v1/agents/gone-for-good/reactivate'],
      ['POST', '/admin/agents/gone-for-good/revoke'],
      ['POST', '/v1/agents/gone-for-good/suspend'],
    ] as const) {
      const refused = await t.request(method, path, { token: admin });
      expect(refused.status, path).toBe(409);
      expect(refused.body.code, path).toBe('conflict');
    }
    const fetched = (await t.request('GET', `/v1/agents/${agent.id}`, { token: admin })).body;
    expect(fetched).toMatchObject({ status: 'revoked', revoked: true, revoked_at: first.body.revoked_at });
    const revoked = await t.request('GET', '/v1/agents?status=revoked', { token: admin });
    expect(names(revoked.body)).toContain('gone-for-good');
  });

  it('revokes permanently from suspended, and resuming clears revoked_at', async () => {
    await create({ name: 'nap' });
    const suspended = (await t.request('POST', '/admin/agents/nap/revoke', { token: admin })).body;
    expect(suspended.revoked_at).toEqual(expect.any(String));
    const resumed = (await t.request('POST', '/admin/agents/nap/unrevoke', { token: admin })).body;
    expect(resumed).toMatchObject({ status: 'active', revoked: false, revoked_at: null });
    await t.request('POST', '/admin/agents/nap/revoke', { token: admin });
    expect((await t.request('DELETE', '/v1/agents/nap', { token: admin })).body.status).toBe('revoked');
  });

  it('answers 404 for lifecycle routes of an unknown agent', async () => {
    for (const [method, path] of [
      ['PATCH', '/admin/agents/ghost'],
      ['DELETE', '/admin/agents/ghost'],
      ['DELETE', '/v1/agents/ghost'],
      ['POST', '/admin/agents/ghost/revoke'],
      ['POST', '/admin/agents/ghost/unrevoke'],
      ['POST', '/v1/agents/ghost/suspend'],
      ['POST', '/v1/agents/ghost/reactivate'],
    ] as const) {
      const answer = await t.request(method, path, { token: admin, ...(method === 'PATCH' ? { body: {} } : {}) });
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.code).toBe('not_found');
    }
  });

  it('PATCH trims a new name, refuses null where a field cannot be empty, and bumps the version only when scopes narrow', async () => {
    const agent = (await create({ name: 'versioned', scopes: ['files:read'] })).body;
    expect(agent.permissions_version).toBe(1);
    const renamed = await t.request('PATCH', '/admin/agents/versioned', { token: admin, body: { name: ' tidy ' } });
    expect(renamed.body).toMatchObject({ name: 'tidy', permissions_version: 1 });
    expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(agent.updated_at));

    for (const body of [{ name: null }, { capability_role: null }, { scopes: null }, { history_limit: -1 }]) {
      const refused = await t.request('PATCH', '/admin/agents/tidy', { token: admin, body });
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    const widened = await t.request('PATCH', '/admin/agents/tidy', {
      token: admin,
      body: { scopes: ['files:read', 'files:write'] },
    });
    expect(widened.body).toMatchObject({ scopes: ['files:read', 'files:write'], permissions_version: 1 });
    const narrowed = await t.request('PATCH', '/admin/agents/tidy', { token: admin, body: { scopes: ['files:read'] } });
    expect(narrowed.body).toMatchObject({ scopes: ['files:read'], permissions_version: 2 });
    // An empty body changes nothing but the timestamp.
    const unchanged = await t.request('PATCH', `/admin/agents/${agent.id}`, { token: admin, body: {} });
    expect(unchanged.body).toMatchObject({ name: 'tidy', scopes: ['files:read'], description: null });
  });

  it('audits every change of an agent, by agent id', async () => {
    const agent = (await create({ name: 'audited' })).body;
    await t.request('PATCH', '/admin/agents/audited', { token: admin, body: { model: 'm' } });
    await t.request('POST', '/v1/agents/audited/suspend', { token: admin });
    await t.request('POST', '/v1/agents/audited/reactivate', { token: admin });
    await t.request('DELETE', `/v1/agents/${agent.id}`, { token: admin });
    await t.request('DELETE', `/admin/agents/${agent.id}`, { token: admin });
    const audit = await t.request('GET', `/v1/audit?agent_id=${agent.id}&event_type=agent.*`, { token: admin });
    expect(audit.body.map((e: { event_type: string }) => e.event_type)).toEqual([
      'agent.deleted',
      'agent.revoked',
      'agent.resumed',
      'agent.suspended',
      'agent.updated',
      'agent.created',
    ]);
    expect(audit.body.every((e: { outcome: string; actor: string }) => e.outcome === 'success')).toBe(true);
    expect(audit.body[0]).toMatchObject({ actor: 'user:admin', target: 'agent:audited' });
  });

  it('creates without a key unless issue_key is true, and validates scopes and tools', async () => {
    const plain = await create({ name: 'keyless', issue_key: false, scopes: ['a:b', 'a:b'] });
    expect(plain.status).toBe(201);
    expect(plain.body).not.toHaveProperty('agent_key');
    expect(plain.body.scopes).toEqual(['a:b']);
    expect((await t.request('GET', '/v1/agents/keyless/keys', { token: admin })).body).toEqual([]);
    for (const body of [
      { name: 'bad-scope', scopes: ['NoColon'] },
      { name: 'bad-key-flag', issue_key: 'yes' },
      { name: 'bad-policy', on_permission_change: 'ignore' },
      { name: 'too-long-description', description: 'x'.repeat(2001) },
    ]) {
      const refused = await create(body);
      expect(refused.status, body.name).toBe(400);
    }
  });
});

describe('agents: who may do what', () => {
  let t: TestDaemon;
  let admin: string;
  let viewer: string;
  let outsider: string;
  let agentKey: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const project = (await t.request('GET', '/admin/projects', { token: admin })).body[0];
    for (const username of ['viewer-member', 'outsider']) {
      const user = (
        await t.request('POST', '/admin/users', {
          token: admin,
          body: { username, password: 'a long enough password' },
        })
      ).body;
      if (username === 'viewer-member') {
        await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
          token: admin,
          body: { privilege: 2 },
        });
      }
    }
    viewer = (await t.login('viewer-member', 'a long enough password')).body.access_token;
    outsider = (await t.login('outsider', 'a long enough password')).body.access_token;
    agentKey = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'subject', issue_key: true } }))
      .body.agent_key.api_key;
  });
  afterAll(() => t.dispose());

  const writes = [
    ['POST', '/admin/agents', { name: 'another' }],
    ['POST', '/v1/agents', { name: 'another' }],
    ['PATCH', '/admin/agents/subject', { model: 'x' }],
    ['DELETE', '/admin/agents/subject', undefined],
    ['DELETE', '/v1/agents/subject', undefined],
    ['POST', '/admin/agents/subject/revoke', undefined],
    ['POST', '/admin/agents/subject/unrevoke', undefined],
    ['POST', '/v1/agents/subject/suspend', undefined],
    ['POST', '/v1/agents/subject/reactivate', undefined],
  ] as const;

  it('refuses every agent write to a project member without admin privilege, and changes nothing', async () => {
    for (const [method, path, body] of writes) {
      const refused = await t.request(method, path, { token: viewer, ...(body ? { body } : {}) });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.body.code).toBe('forbidden');
    }
    const subject = (await t.request('GET', '/v1/agents/subject', { token: viewer })).body;
    expect(subject).toMatchObject({ status: 'active', model: null });
    expect((await t.request('GET', '/v1/agents?q=another', { token: admin })).body).toEqual([]);
  });

  it('refuses reads and writes to a user outside the project', async () => {
    expect((await t.request('GET', '/v1/agents', { token: outsider })).status).toBe(403);
    expect((await t.request('GET', '/v1/agents/subject', { token: outsider })).status).toBe(403);
    expect((await t.request('POST', '/admin/agents', { token: outsider, body: { name: 'x' } })).status).toBe(403);
  });

  it('keeps agent credentials off the agent-management routes, reads included', async () => {
    const asAgent = { headers: { 'x-api-key': agentKey } };
    expect((await t.request('GET', '/v1/agents', asAgent)).status).toBe(403);
    expect((await t.request('GET', '/v1/agents/subject', asAgent)).status).toBe(403);
    expect((await t.request('POST', '/v1/agents/subject/suspend', asAgent)).status).toBe(403);
    expect((await t.request('DELETE', '/admin/agents/subject', asAgent)).status).toBe(403);
    expect((await t.request('GET', '/v1/agents/subject', { token: admin })).body.status).toBe('active');
  });

  it('answers 401 without credentials', async () => {
    for (const [method, path, body] of writes) {
      const refused = await t.request(method, path, body ? { body } : {});
      expect(refused.status, `${method} ${path}`).toBe(401);
    }
    expect((await t.request('GET', '/v1/agents')).status).toBe(401);
  });
});
