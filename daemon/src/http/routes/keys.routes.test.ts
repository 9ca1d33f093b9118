import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MemorySecretStore, SecretStoreUnavailableError } from '../../secrets/secret-store.js';
import { databaseFiles, filesHoldingData, isDatabaseFile, readFiles } from '../../testing/database-files.js';
import { sql } from '../../testing/sql.js';
import { currentLogFile } from '../../home.js';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

const DAY_MS = 86_400_000;

/** The requests these tests repeat, against the daemon `d()` of the describe block using them. */
function keyRequests(d: () => { t: TestDaemon; admin: string }) {
  return {
    newAgent: (name: string, scopes: string[] = []) =>
      d().t.request('POST', '/admin/agents', { token: d().admin, body: { name, scopes } }),
    issue: (agent: string, body: Record<string, unknown> = {}) =>
      d().t.request('POST', `/admin/agents/${agent}/keys`, { token: d().admin, body }),
    asAgent: (apiKey: string) => d().t.request('GET', '/v1/whoami', { headers: { 'x-api-key': apiKey } }),
    keychain: (account: string) => keytar.getPassword(d().t.keychainService, account),
    listKeys: async (agent: string) =>
      (await d().t.request('GET', `/v1/agents/${agent}/keys`, { token: d().admin })).body,
  };
}

describe('agent keys', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const { newAgent, issue, asAgent, keychain } = keyRequests(() => ({ t, admin }));

  it('shows a new key once, keeps it in the keychain, and lists only its prefix and last four', async () => {
    await newAgent('shown-once');
    const issued = await issue('shown-once', { label: 'laptop' });
    expect(issued.status).toBe(201);
    const key = issued.body;
    expect(key.api_key).toMatch(/^agent_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
    expect(key).toMatchObject({ label: 'laptop', prefix: key.api_key.slice(6, 14), active: true, in_keychain: true });
    expect(await keychain(`agent-key:${key.id}`)).toBe(key.api_key);
    expect(await keychain('agent:default/shown-once')).toBe(key.api_key);

    const listed = await t.request('GET', '/v1/agents/shown-once/keys', { token: admin });
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).toMatchObject({ id: key.id, last_four: key.api_key.slice(-4) });
    expect(JSON.stringify(listed.body)).not.toContain(key.api_key);
  });

  it('expires after 30 days by default; 0 means never', async () => {
    await newAgent('expiry');
    const before = Date.now();
    const standard = (await issue('expiry')).body;
    const expiresIn = Date.parse(standard.expires_at) - before;
    expect(expiresIn).toBeGreaterThan(30 * DAY_MS - 60_000);
    expect(expiresIn).toBeLessThan(30 * DAY_MS + 60_000);
    expect((await issue('expiry', { expires_in_days: 0 })).body.expires_at).toBeNull();
  });

  it("allows only a subset of the agent's scopes", async () => {
    await newAgent('scoped', ['payments:read', 'payments:write']);
    expect((await issue('scoped', { scopes: ['payments:read'] })).body.scopes).toEqual(['payments:read']);
    const refused = await issue('scoped', { scopes: ['payments:read', 'admin:all'] });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ location: 'body.scopes' })]);
  });

  it('authenticates as X-API-Key and as Bearer', async () => {
    await newAgent('authn');
    const key = (await issue('authn')).body.api_key;
    expect((await asAgent(key)).body).toMatchObject({ principal: 'agent', via: 'agent_key', agent: { name: 'authn' } });
    expect((await t.request('GET', '/v1/whoami', { token: key })).body.agent.name).toBe('authn');
  });

  it('honours store_in_keychain: false', async () => {
    await newAgent('no-keychain');
    const key = (await issue('no-keychain', { store_in_keychain: false })).body;
    expect(key).toMatchObject({ in_keychain: false, keychain: null });
    expect(await keychain(`agent-key:${key.id}`)).toBeNull();
    expect(await keychain('agent:default/no-keychain')).toBeNull();
    expect((await asAgent(key.api_key)).status).toBe(200);
  });

  it('rotates with grace 0: the old key stops at once and the alias holds the new one', async () => {
    await newAgent('rotate-now');
    const old = (await issue('rotate-now')).body;
    const rotated = await t.request('POST', `/admin/agents/rotate-now/keys/${old.id}/rotate`, {
      token: admin,
      body: {},
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.api_key).not.toBe(old.api_key);
    expect((await asAgent(old.api_key)).status).toBe(401);
    expect((await asAgent(rotated.body.api_key)).status).toBe(200);
    expect(await keychain('agent:default/rotate-now')).toBe(rotated.body.api_key);
    expect(await keychain(`agent-key:${old.id}`)).toBeNull();

    const listed = (await t.request('GET', '/v1/agents/rotate-now/keys', { token: admin })).body;
    expect(listed.find((k: { id: string }) => k.id === old.id)).toMatchObject({
      active: false,
      replaced_by: rotated.body.id,
    });
    // A key that was rotated already cannot be rotated again.
    const again = await t.request('POST', `/admin/agents/rotate-now/keys/${old.id}/rotate`, { token: admin, body: {} });
    expect(again.status).toBe(409);
  });

  it('rotates with a grace period: both keys work until it ends; more than 7 days is refused', async () => {
    await newAgent('rotate-later');
    const old = (await issue('rotate-later')).body;
    const tooLong = await t.request('POST', `/admin/agents/rotate-later/keys/${old.id}/rotate`, {
      token: admin,
      body: { grace_seconds: 7 * 86_400 + 1 },
    });
    expect(tooLong.status).toBe(400);
    const rotated = await t.request('POST', `/admin/agents/rotate-later/keys/${old.id}/rotate`, {
      token: admin,
      body: { grace_seconds: 3600 },
    });
    expect((await asAgent(old.api_key)).status).toBe(200);
    expect((await asAgent(rotated.body.api_key)).status).toBe(200);
    expect(await keychain('agent:default/rotate-later')).toBe(rotated.body.api_key);
  });

  it('refuses a rotated key once its grace period has ended', async () => {
    await newAgent('grace-ends');
    const old = (await issue('grace-ends')).body;
    await t.request('POST', `/admin/agents/grace-ends/keys/${old.id}/rotate`, {
      token: admin,
      body: { grace_seconds: 1 },
    });
    expect((await asAgent(old.api_key)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await asAgent(old.api_key)).status).toBe(401);
  });

  it('refuses a key once its expiry passes, while its lookup is still cached', async () => {
    await newAgent('lapsing');
    const key = (await issue('lapsing', { expires_in_days: 1 })).body;
    expect((await asAgent(key.api_key)).status).toBe(200);
    expect((await asAgent(key.api_key)).status).toBe(200); // served from the cached lookup
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.parse(key.expires_at) + 1);
      expect((await asAgent(key.api_key)).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses an expired key, and will not rotate it', async () => {
    await newAgent('expired');
    const key = (await issue('expired', { expires_in_days: 1 })).body;
    expect((await asAgent(key.api_key)).status).toBe(200);
    // A day passes: move the expiry into the past through the database file itself. The daemon
    // sees another program's commits within a second, cached credential lookups included.
    await sql(t, `UPDATE agent_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = '${key.id}'`);
    await expect.poll(async () => (await asAgent(key.api_key)).status, { timeout: 3000 }).toBe(401);
    const listed = (await t.request('GET', '/v1/agents/expired/keys', { token: admin })).body;
    expect(listed[0]).toMatchObject({ id: key.id, active: false });
    const rotate = await t.request('POST', `/admin/agents/expired/keys/${key.id}/rotate`, { token: admin, body: {} });
    expect(rotate.status).toBe(409);
  });

  it('revokes: refused on the next request, keychain entries gone, the alias falls back to a live key', async () => {
    await newAgent('revoker');
    const first = (await issue('revoker')).body;
    const second = (await issue('revoker')).body;
    expect(await keychain('agent:default/revoker')).toBe(second.api_key);

    const revoked = await t.request('DELETE', `/admin/agents/revoker/keys/${second.id}`, { token: admin });
    expect(revoked.body).toMatchObject({ id: second.id, active: false, revoked_at: expect.any(String) });
    expect((await asAgent(second.api_key)).status).toBe(401);
    expect(await keychain(`agent-key:${second.id}`)).toBeNull();
    expect(await keychain('agent:default/revoker')).toBe(first.api_key);

    // Rotating a revoked key is a conflict.
    const rotate = await t.request('POST', `/admin/agents/revoker/keys/${second.id}/rotate`, {
      token: admin,
      body: {},
    });
    expect(rotate.status).toBe(409);
  });

  it('refuses every key of a suspended agent on the next request', async () => {
    await newAgent('paused');
    const key = (await issue('paused')).body.api_key;
    await t.request('POST', '/v1/agents/paused/suspend', { token: admin });
    expect((await asAgent(key)).status).toBe(401);
    await t.request('POST', '/v1/agents/paused/reactivate', { token: admin });
    expect((await asAgent(key)).status).toBe(200);
  });

  it('records last_used_at in batches: nothing is written per request, all of it at the flush', async () => {
    await newAgent('used');
    const key = (await issue('used')).body;
    await asAgent(key.api_key);
    const listed = async () => (await t.request('GET', '/v1/agents/used/keys', { token: admin })).body[0];
    expect((await listed()).last_used_at).toBeNull();

    await t.daemon.services.usage.flush();
    expect(Date.now() - Date.parse((await listed()).last_used_at)).toBeLessThan(60_000);
    expect((await t.request('GET', '/v1/agents/used', { token: admin })).body.last_auth_at).toEqual(expect.any(String));
  });
});

describe('agent keys when the keychain fails', () => {
  /** A store that can fail only for some accounts, to fail a write half-way. */
  class PartlyFailingStore extends MemorySecretStore {
    failFor: ((account: string) => boolean) | null = null;
    override async set(account: string, secret: string) {
      if (this.failFor?.(account)) throw new SecretStoreUnavailableError('unavailable', 'simulated outage');
      return super.set(account, secret);
    }
  }
  const store = new PartlyFailingStore();
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    t = await startTestDaemon({ secrets: store });
    admin = (await t.setupAdmin()).access_token;
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'fragile' } });
  });
  afterAll(() => t.dispose());

  const keys = async () => (await t.request('GET', '/v1/agents/fragile/keys', { token: admin })).body;

  it('answers 503 keychain_unavailable and stores no key when the keychain write fails', async () => {
    store.failFor = () => true;
    try {
      const refused = await t.request('POST', '/admin/agents/fragile/keys', { token: admin, body: {} });
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('keychain_unavailable');
    } finally {
      store.failFor = null;
    }
    expect(await keys()).toEqual([]);
  });

  it('undoes the key entry already written when the alias write fails', async () => {
    store.failFor = (account) => account.startsWith('agent:');
    try {
      expect((await t.request('POST', '/admin/agents/fragile/keys', { token: admin, body: {} })).status).toBe(503);
    } finally {
      store.failFor = null;
    }
    expect(await keys()).toEqual([]);
    const audit = await t.request('GET', '/v1/audit?event_type=key.created', { token: admin });
    expect(audit.body).toEqual([]);
  });

  it('creates no agent when the identity cannot be stored', async () => {
    store.failing = true;
    try {
      expect((await t.request('POST', '/admin/agents', { token: admin, body: { name: 'ghost' } })).status).toBe(503);
    } finally {
      store.failing = false;
    }
    expect((await t.request('GET', '/v1/agents/ghost', { token: admin })).status).toBe(404);
    // The name is free for a retry once the keychain is back.
    expect((await t.request('POST', '/admin/agents', { token: admin, body: { name: 'ghost' } })).status).toBe(201);
  });
});

describe('agent keys: routes, lifetimes and the alias', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const { newAgent, issue, asAgent, keychain, listKeys } = keyRequests(() => ({ t, admin }));

  it('answers 404 for an unknown agent, an unknown key, and a key of another agent', async () => {
    await newAgent('mine');
    await newAgent('theirs');
    const theirs = (await issue('theirs')).body;
    expect((await issue('nobody')).status).toBe(404);
    expect((await t.request('GET', '/v1/agents/nobody/keys', { token: admin })).status).toBe(404);
    for (const [method, suffix] of [
      ['POST', '/rotate'],
      ['DELETE', ''],
    ] as const) {
      for (const keyId of [theirs.id, 'no-such-key']) {
        const answer = await t.request(method, `/admin/agents/mine/keys/${keyId}${suffix}`, {
          token: admin,
          ...(method === 'POST' ? { body: {} } : {}),
        });
        expect(answer.status, `${method} ${keyId}${suffix}`).toBe(404);
        expect(answer.body.code).toBe('not_found');
      }
    }
    // Nothing happened to the other agent's key.
    expect((await asAgent(theirs.api_key)).status).toBe(200);
    expect(await keychain(`agent-key:${theirs.id}`)).toBe(theirs.api_key);
  });

  it('validates the options: expiry 0–3650 days, known fields, scope format, scopes of an agent that has none', async () => {
    await newAgent('options');
    for (const body of [
      { expires_in_days: 3651 },
      { expires_in_days: -1 },
      { expires_in_days: 1.5 },
      { label: 'x'.repeat(129) },
      { scopes: ['NOT A SCOPE'] },
      { store_in_keychain: 'no' },
      { colour: 'red' },
    ]) {
      const refused = await issue('options', body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
    }
    // An agent without scopes cannot hand any out.
    expect((await issue('options', { scopes: ['files:read'] })).status).toBe(400);
    expect(await listKeys('options')).toEqual([]);

    const longest = (await issue('options', { expires_in_days: 3650 })).body;
    expect(Math.round((Date.parse(longest.expires_at) - Date.parse(longest.created_at)) / DAY_MS)).toBe(3650);
    const never = (await issue('options', { expires_in_days: 0 })).body;
    expect(never.expires_at).toBeNull();
    expect((await listKeys('options')).find((k: { id: string }) => k.id === never.id)).toMatchObject({
      expires_at: null,
      active: true,
    });
  });

  it('lists keys newest first with every field but the key, and labels trimmed', async () => {
    await newAgent('listed', ['a:read']);
    const first = (await issue('listed', { label: '  first ' })).body;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = (await issue('listed', { scopes: ['a:read'] })).body;
    const listed = await listKeys('listed');
    expect(listed.map((k: { id: string }) => k.id)).toEqual([second.id, first.id]);
    expect(Object.keys(listed[0]).sort()).toEqual(
      [
        'active',
        'agent_id',
        'created_at',
        'expires_at',
        'id',
        'in_keychain',
        'label',
        'last_four',
        'last_used_at',
        'prefix',
        'replaced_by',
        'revoked_at',
        'scopes',
      ].sort(),
    );
    expect(listed[1]).toMatchObject({ label: 'first', scopes: [], prefix: first.api_key.split('_')[1] });
    expect(listed[0]).toMatchObject({ label: null, scopes: ['a:read'] });
    const text = JSON.stringify(listed);
    for (const key of [first.api_key, second.api_key]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(key.split('_')[2]);
    }
    // The prefix is unique and the last four are the key's own.
    expect(first.prefix).not.toBe(second.prefix);
    expect(second.last_four).toBe(second.api_key.slice(-4));
  });

  it('rotation keeps the label, scopes, lifetime and keychain choice of the old key', async () => {
    await newAgent('inherit', ['a:read', 'a:write']);
    const old = (await issue('inherit', { label: 'ci', scopes: ['a:read'], expires_in_days: 7 })).body;
    const rotated = (await t.request('POST', `/admin/agents/inherit/keys/${old.id}/rotate`, { token: admin, body: {} }))
      .body;
    expect(rotated).toMatchObject({ label: 'ci', scopes: ['a:read'], in_keychain: true, active: true });
    expect(Math.round((Date.parse(rotated.expires_at) - Date.parse(rotated.created_at)) / DAY_MS)).toBe(7);
    const relabelled = (
      await t.request('POST', `/admin/agents/inherit/keys/${rotated.id}/rotate`, {
        token: admin,
        body: { label: 'ci-2' },
      })
    ).body;
    expect(relabelled.label).toBe('ci-2');

    const offKeychain = (await issue('inherit', { store_in_keychain: false, expires_in_days: 0 })).body;
    const rotatedOff = (
      await t.request('POST', `/admin/agents/inherit/keys/${offKeychain.id}/rotate`, { token: admin, body: {} })
    ).body;
    expect(rotatedOff).toMatchObject({ in_keychain: false, keychain: null, expires_at: null });
    expect(await keychain(`agent-key:${rotatedOff.id}`)).toBeNull();
    // The alias still holds the newest key that was stored there.
    expect(await keychain('agent:default/inherit')).toBe(relabelled.api_key);
  });

  it('revoking a key inside its grace period stops it at once', async () => {
    await newAgent('cut-short');
    const old = (await issue('cut-short')).body;
    const rotated = (
      await t.request('POST', `/admin/agents/cut-short/keys/${old.id}/rotate`, {
        token: admin,
        body: { grace_seconds: 3600 },
      })
    ).body;
    expect((await asAgent(old.api_key)).status).toBe(200);
    const graceful = (await listKeys('cut-short')).find((k: { id: string }) => k.id === old.id);
    expect(graceful).toMatchObject({ active: true, replaced_by: rotated.id });
    expect(Date.parse(graceful.revoked_at)).toBeGreaterThan(Date.now() + 3500_000);

    const revoked = await t.request('DELETE', `/admin/agents/cut-short/keys/${old.id}`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body.active).toBe(false);
    expect(Date.parse(revoked.body.revoked_at)).toBeLessThanOrEqual(Date.now());
    expect((await asAgent(old.api_key)).status).toBe(401);
    expect((await asAgent(rotated.api_key)).status).toBe(200);
    expect(await keychain('agent:default/cut-short')).toBe(rotated.api_key);
  });

  it('revoking twice is harmless, and revoking the last live key removes the alias', async () => {
    await newAgent('last-one');
    const only = (await issue('last-one')).body;
    const first = await t.request('DELETE', `/admin/agents/last-one/keys/${only.id}`, { token: admin });
    const second = await t.request('DELETE', `/admin/agents/last-one/keys/${only.id}`, { token: admin });
    expect(second.status).toBe(200);
    expect(second.body.revoked_at).toBe(first.body.revoked_at);
    expect(await keychain('agent:default/last-one')).toBeNull();
    expect(await keychain(`agent-key:${only.id}`)).toBeNull();
    const audit = await t.request('GET', `/v1/audit?event_type=key.revoked&agent_id=${first.body.agent_id}`, {
      token: admin,
    });
    expect(audit.body).toHaveLength(1);
  });

  it('audits create, rotate and revoke by key prefix, with no key material', async () => {
    const agent = (await newAgent('audited-keys')).body;
    const key = (await issue('audited-keys')).body;
    const rotated = (
      await t.request('POST', `/admin/agents/audited-keys/keys/${key.id}/rotate`, { token: admin, body: {} })
    ).body;
    await t.request('DELETE', `/admin/agents/audited-keys/keys/${rotated.id}`, { token: admin });
    const audit = (await t.request('GET', `/v1/audit?agent_id=${agent.id}&event_type=key.*`, { token: admin })).body;
    expect(audit.map((e: { event_type: string; target: string }) => [e.event_type, e.target])).toEqual([
      ['key.revoked', `key:${rotated.prefix}`],
      ['key.rotated', `key:${key.prefix}`],
      ['key.created', `key:${rotated.prefix}`],
      ['key.created', `key:${key.prefix}`],
    ]);
    const text = JSON.stringify(audit);
    for (const plaintext of [key.api_key, rotated.api_key]) expect(text).not.toContain(plaintext.split('_')[2]);
  });

  it("never grants more than the agent's current scopes, even with a key issued before they narrowed", async () => {
    await newAgent('narrowed', ['files:read', 'files:write']);
    const key = (await issue('narrowed', { scopes: ['files:read', 'files:write'] })).body;
    expect((await asAgent(key.api_key)).body.scopes).toEqual(['files:read', 'files:write']);

    await t.request('PATCH', '/admin/agents/narrowed', { token: admin, body: { scopes: ['files:read'] } });
    // Both ways in are checked (soft), so one failure does not hide the other.
    expect.soft((await asAgent(key.api_key)).body.scopes).toEqual(['files:read']);
    const agentId = (await t.request('GET', '/v1/agents/narrowed', { token: admin })).body.id;
    const tokens = await t.request('POST', '/v1/auth/token', { body: { agent_id: agentId, secret: key.api_key } });
    expect(tokens.status).toBe(200);
    expect.soft(decodeJwt(tokens.body.access_token).scopes).toEqual(['files:read']);
    expect
      .soft((await t.request('GET', '/v1/whoami', { token: tokens.body.access_token })).body.scopes)
      .toEqual(['files:read']);

    // Rotating it gives a key with what it grants now; one that grants nothing now cannot be rotated.
    const rotate = (id: string) =>
      t.request('POST', `/admin/agents/narrowed/keys/${id}/rotate`, { token: admin, body: {} });
    const rotated = await rotate(key.id);
    expect(rotated.status).toBe(201);
    expect(rotated.body.scopes).toEqual(['files:read']);
    const writer = (await issue('narrowed', { scopes: ['files:read'] })).body;
    await t.request('PATCH', '/admin/agents/narrowed', { token: admin, body: { scopes: ['files:write'] } });
    expect((await rotate(writer.id)).status).toBe(409);
  });

  it('writes last_used_at on shutdown at the latest', async () => {
    await newAgent('used-before-restart');
    const key = (await issue('used-before-restart')).body;
    expect((await asAgent(key.api_key)).status).toBe(200);
    expect((await listKeys('used-before-restart'))[0].last_used_at).toBeNull();

    Object.assign(t, await t.restart());
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    const listed = (await listKeys('used-before-restart'))[0];
    expect(Date.now() - Date.parse(listed.last_used_at)).toBeLessThan(60_000);
    // The key and its keychain entries outlive the restart.
    expect((await asAgent(key.api_key)).status).toBe(200);
    expect(await keychain(`agent-key:${key.id}`)).toBe(key.api_key);
  });
});

describe('agent keys: who may manage them', () => {
  let t: TestDaemon;
  let admin: string;
  let viewer: string;
  let key: { id: string; api_key: string };
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const project = (await t.request('GET', '/admin/projects', { token: admin })).body[0];
    const user = (
      await t.request('POST', '/admin/users', {
        token: admin,
        body: { username: 'key-viewer', password: 'a long enough password' },
      })
    ).body;
    await t.request('PUT', `/admin/projects/${project.id}/members/${user.id}`, {
      token: admin,
      body: { privilege: 2 },
    });
    viewer = (await t.login('key-viewer', 'a long enough password')).body.access_token;
    key = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'kept', issue_key: true } })).body
      .agent_key;
  });
  afterAll(() => t.dispose());

  it('lets a member list keys but not issue, rotate or revoke them', async () => {
    expect((await t.request('GET', '/v1/agents/kept/keys', { token: viewer })).status).toBe(200);
    for (const [method, path] of [
      ['POST', '/admin/agents/kept/keys'],
      ['POST', `/admin/agents/kept/keys/${key.id}/rotate`],
      ['DELETE', `/admin/agents/kept/keys/${key.id}`],
    ] as const) {
      const refused = await t.request(method, path, { token: viewer, ...(method === 'POST' ? { body: {} } : {}) });
      expect(refused.status, `${method} ${path}`).toBe(403);
    }
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': key.api_key } })).status).toBe(200);
    expect(await t.request('GET', '/v1/agents/kept/keys', { token: admin })).toMatchObject({
      body: [{ id: key.id, active: true, replaced_by: null }],
    });
  });

  it('keeps an agent from managing keys, its own included', async () => {
    const asAgent = { headers: { 'x-api-key': key.api_key } };
    expect((await t.request('GET', '/v1/agents/kept/keys', asAgent)).status).toBe(403);
    expect((await t.request('POST', '/admin/agents/kept/keys', { ...asAgent, body: {} })).status).toBe(403);
    expect((await t.request('POST', `/admin/agents/kept/keys/${key.id}/rotate`, { ...asAgent, body: {} })).status).toBe(
      403,
    );
  });
});

describe('agent keys when the keychain fails during a rotation', () => {
  class SwitchableStore extends MemorySecretStore {
    failWrites = false;
    override async set(account: string, secret: string) {
      if (this.failWrites) throw new SecretStoreUnavailableError('unavailable', 'simulated outage');
      return super.set(account, secret);
    }
  }
  const store = new SwitchableStore();
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    t = await startTestDaemon({ secrets: store });
    admin = (await t.setupAdmin()).access_token;
  });
  afterAll(() => t.dispose());

  it('answers 503 and leaves the old key working, unrotated, with its keychain entries', async () => {
    const old = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'steady', issue_key: true } }))
      .body.agent_key;
    store.failWrites = true;
    try {
      const refused = await t.request('POST', `/admin/agents/steady/keys/${old.id}/rotate`, {
        token: admin,
        body: { grace_seconds: 0 },
      });
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('keychain_unavailable');
      expect(JSON.stringify(refused.body)).not.toContain(old.api_key);
    } finally {
      store.failWrites = false;
    }
    const keys = (await t.request('GET', '/v1/agents/steady/keys', { token: admin })).body;
    expect(keys).toEqual([expect.objectContaining({ id: old.id, active: true, replaced_by: null, revoked_at: null })]);
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': old.api_key } })).status).toBe(200);
    expect(await store.get(`agent-key:${old.id}`)).toBe(old.api_key);
    expect(await store.get('agent:default/steady')).toBe(old.api_key);
    const audit = await t.request('GET', '/v1/audit?event_type=key.rotated', { token: admin });
    expect(audit.body).toEqual([]);

    // Once the keychain is back, the same rotation works.
    const rotated = await t.request('POST', `/admin/agents/steady/keys/${old.id}/rotate`, { token: admin, body: {} });
    expect(rotated.status).toBe(201);
    expect(await store.get('agent:default/steady')).toBe(rotated.body.api_key);
  });

  it('issues a store_in_keychain: false key while the keychain is down', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'offline' } });
    store.failWrites = true;
    try {
      const issued = await t.request('POST', '/admin/agents/offline/keys', {
        token: admin,
        body: { store_in_keychain: false },
      });
      expect(issued.status).toBe(201);
      expect(issued.body).toMatchObject({ in_keychain: false, keychain: null });
    } finally {
      store.failWrites = false;
    }
  });
});

describe('agent key material at rest', () => {
  let t: TestDaemon;
  afterAll(() => t?.dispose());

  it('leaves no key, key body or identity private key in the database files or the logs', async () => {
    t = await startTestDaemon({ config: { logLevel: 'trace' } });
    const admin = (await t.setupAdmin()).access_token;
    const plaintexts = new Map<string, string>();
    const remember = (what: string, key: string) => {
      plaintexts.set(what, key);
      plaintexts.set(`${what} (secret part)`, key.split('_')[2]!);
    };

    const agent = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        body: { name: 'vault', issue_key: true, scopes: ['a:b'] },
      })
    ).body;
    remember('issued with the agent', agent.agent_key.api_key);
    const labelled = (
      await t.request('POST', '/admin/agents/vault/keys', { token: admin, body: { label: 'x', scopes: ['a:b'] } })
    ).body;
    remember('issued on its own', labelled.api_key);
    const unstored = (
      await t.request('POST', '/admin/agents/vault/keys', { token: admin, body: { store_in_keychain: false } })
    ).body;
    remember('not in the keychain', unstored.api_key);
    const rotated = (
      await t.request('POST', `/admin/agents/vault/keys/${labelled.id}/rotate`, {
        token: admin,
        body: { grace_seconds: 60 },
      })
    ).body;
    remember('rotated', rotated.api_key);
    await t.request('DELETE', `/admin/agents/vault/keys/${unstored.id}`, { token: admin });
    const registered = (await t.request('POST', '/v1/agents', { token: admin, body: { name: 'registered' } })).body;
    remember('AgentAuth secret', registered.secret);

    // Used, refused and exchanged, so the request log and the audit log both saw them.
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': rotated.api_key } })).status).toBe(200);
    expect((await t.request('GET', '/v1/whoami', { token: labelled.api_key })).status).toBe(200);
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': unstored.api_key } })).status).toBe(401);
    expect(
      (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.agent_key.api_key } }))
        .status,
    ).toBe(200);
    expect(
      (await t.request('POST', '/v1/auth/token', { body: { agent_id: registered.id, secret: rotated.api_key } }))
        .status,
    ).toBe(401);

    const identities: Buffer[] = [];
    for (const id of [agent.id, registered.id]) {
      const pem = (await keytar.getPassword(t.keychainService, `agent-identity:${id}`))!;
      plaintexts.set(`identity PEM of ${id}`, pem.split('\n')[1]!);
      // The raw 32-byte Ed25519 seed ends the PKCS#8 DER.
      identities.push(createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' }).subarray(-32));
    }
    await t.daemon.services.usage.flush();

    const check = async (when: string) => {
      const files = await filesHoldingData(t);
      expect(
        files.map((f) => f.slice(t.home.length)),
        when,
      ).toContain('/logs/gatehoused.1.log');
      expect(files.some(isDatabaseFile), when).toBe(true);
      for (const [file, bytes] of readFiles(files)) {
        const text = bytes.toString('latin1');
        for (const [what, secret] of plaintexts)
          expect(text.includes(secret), `${what} in ${file} ${when}`).toBe(false);
        for (const seed of identities) expect(bytes.includes(seed), `identity seed in ${file} ${when}`).toBe(false);
      }
    };
    // While running (the write-ahead log holds the recent writes), and after a clean stop.
    expect((await databaseFiles(t)).some((f) => /gatehouse\.db-wal$|\/pg_wal\//.test(f))).toBe(true);
    await check('while running');
    await t.stop();
    expect(readFileSync(currentLogFile(t.home), 'utf8')).toContain('/admin/agents/vault/keys');
    await check('after stop');
  });
});

describe('keys of a permanently revoked agent', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  it('are neither issued nor rotated', async () => {
    const agent = (await t.request('POST', '/admin/agents', { token: admin, body: { name: 'gone', issue_key: true } }))
      .body;
    await t.request('DELETE', `/v1/agents/${agent.id}`, { token: admin });
    expect((await t.request('POST', '/admin/agents/gone/keys', { token: admin, body: {} })).status).toBe(409);
    const rotate = await t.request('POST', `/admin/agents/gone/keys/${agent.agent_key.id}/rotate`, {
      token: admin,
      body: {},
    });
    expect(rotate.status).toBe(409);
  });
});
