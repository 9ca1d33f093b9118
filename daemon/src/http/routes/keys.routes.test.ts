import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySecretStore, SecretStoreUnavailableError } from '../../secrets/secret-store.js';
import { sql } from '../../testing/sql.js';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

const DAY_MS = 86_400_000;

describe('agent keys', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const newAgent = (name: string, scopes: string[] = []) =>
    t.request('POST', '/admin/agents', { token: admin, body: { name, scopes } });
  const issue = (agent: string, body: Record<string, unknown> = {}) =>
    t.request('POST', `/admin/agents/${agent}/keys`, { token: admin, body });
  const asAgent = (apiKey: string) => t.request('GET', '/v1/whoami', { headers: { 'x-api-key': apiKey } });
  const keychain = (account: string) => keytar.getPassword(t.keychainService, account);

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

  it('refuses an expired key, and will not rotate it', async () => {
    await newAgent('expired');
    const key = (await issue('expired', { expires_in_days: 1 })).body;
    // A day passes: move the expiry into the past through the database file itself.
    await sql(t, `UPDATE agent_keys SET expires_at = '2000-01-01T00:00:00.000Z' WHERE id = '${key.id}'`);
    expect((await asAgent(key.api_key)).status).toBe(401);
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
      if (this.failFor?.(account)) throw new SecretStoreUnavailableError('simulated outage');
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
