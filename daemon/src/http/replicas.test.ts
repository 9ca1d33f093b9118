import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readKeyEncryptionKey } from '../secrets/key-encryption-key.js';
import { ADMIN, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../testing/test-database.js';

const server = testDatabaseServer();

/*
 * Two replicas on one PostgreSQL database, each with its own connections and read caches: a change
 * made through A is refused or answered anew on the very next request to B, whose caches held the
 * old answer a moment before (each test asks B first, so that B has it cached).
 */
describe.skipIf(!server)('two replicas on one PostgreSQL database (needs GATEHOUSE_TEST_DATABASE_URL)', () => {
  let shared: TestDatabase;
  let a: TestDaemon;
  let b: TestDaemon;
  let admin: string;

  beforeAll(async () => {
    shared = await createTestDatabase(server!);
    // Replicas share their secrets (the token-signing key) through the database.
    const kek = readKeyEncryptionKey({ base64: randomBytes(32).toString('base64'), variable: 'GATEHOUSE_KEK' });
    const replica = () => startTestDaemon({ database: shared, config: { secretStore: 'database', kek } });
    a = await replica();
    b = await replica();
    admin = (await a.setupAdmin()).access_token;
    expect((await a.request('POST', '/admin/tools', { token: admin, body: { name: 'web_search' } })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const replica of [a, b]) if (replica) rmSync(replica.home, { recursive: true, force: true });
    await shared?.drop();
  });

  const agentWithKey = async (name: string, body: Record<string, unknown> = {}) => {
    const created = await a.request('POST', '/admin/agents', {
      token: admin,
      body: { name, issue_key: true, ...body },
    });
    expect(created.status).toBe(201);
    return { key: created.body.agent_key.api_key as string, keyId: created.body.agent_key.id as string };
  };
  const whoamiWithKey = (replica: TestDaemon, key: string) =>
    replica.request('GET', '/v1/whoami', { headers: { 'x-api-key': key } });

  it('refuses a key revoked through A on the next request to B', async () => {
    const agent = await agentWithKey('revoked-key');
    expect((await whoamiWithKey(b, agent.key)).status).toBe(200);
    expect((await whoamiWithKey(b, agent.key)).status).toBe(200);
    expect((await a.request('DELETE', `/admin/agents/revoked-key/keys/${agent.keyId}`, { token: admin })).status).toBe(
      200,
    );
    expect((await whoamiWithKey(b, agent.key)).status).toBe(401);
  });

  it('refuses an agent suspended through A on the next request to B', async () => {
    const agent = await agentWithKey('suspended');
    expect((await whoamiWithKey(b, agent.key)).status).toBe(200);
    expect((await whoamiWithKey(b, agent.key)).status).toBe(200);
    expect((await a.request('POST', '/v1/agents/suspended/suspend', { token: admin })).status).toBe(200);
    expect((await whoamiWithKey(b, agent.key)).status).toBe(401);
  });

  it('answers /v1/authorize on B after a permission change through A', async () => {
    const agent = await agentWithKey('granted', { allowed_tools: ['web_search'] });
    const authorize = () =>
      b.request('POST', '/v1/authorize', { headers: { 'x-api-key': agent.key }, body: { tool: 'web_search' } });
    expect((await authorize()).body).toMatchObject({ allowed: true });
    expect((await authorize()).body).toMatchObject({ allowed: true });
    const revoked = await a.request('DELETE', '/admin/agents/granted/tools', {
      token: admin,
      body: { tools: ['web_search'] },
    });
    expect(revoked.status).toBe(200);
    expect((await authorize()).body).toMatchObject({ allowed: false });
  });

  it("keeps B's cached count and key through A's flush of recorded uses, and shows the use on B", async () => {
    const agent = await agentWithKey('used-on-a');
    const total = (await b.request('GET', '/v1/agents', { token: admin })).headers.get('x-total-count');
    expect((await whoamiWithKey(b, agent.key)).body.agent.last_auth_at).toBeNull();
    expect((await whoamiWithKey(a, agent.key)).status).toBe(200);

    const queries = vi.spyOn(b.daemon.services.db.source.logger, 'logQuery');
    try {
      await a.daemon.services.usage.flush();
      expect((await b.request('GET', '/v1/agents', { token: admin })).headers.get('x-total-count')).toBe(total);
      const used = await whoamiWithKey(b, agent.key);
      const read = queries.mock.calls.map(([sql]) => sql);
      expect(read.filter((sql) => /COUNT\(\*\)/i.test(sql))).toEqual([]);
      expect(read.filter((sql) => /FROM "agent_keys"/i.test(sql) && /"prefix"/.test(sql))).toEqual([]);
      expect(used.body.agent.last_auth_at).toEqual(expect.any(String));
    } finally {
      queries.mockRestore();
    }
  });

  it('refuses a console session ended through A on the next request to B', async () => {
    const session = (await a.login(ADMIN.username, ADMIN.password)).body.access_token as string;
    expect((await b.request('GET', '/v1/whoami', { token: session })).status).toBe(200);
    expect((await b.request('GET', '/v1/whoami', { token: session })).status).toBe(200);
    expect((await a.request('POST', '/auth/logout', { token: session })).status).toBe(204);
    expect((await b.request('GET', '/v1/whoami', { token: session })).status).toBe(401);
  });

  it("streams to B's event stream, and shows in B's audit list, what is done through A", async () => {
    const controller = new AbortController();
    const stream = await fetch(`${b.url}/v1/events`, {
      headers: { authorization: `Bearer ${admin}` },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    const text = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let received = '';
    const seen = (async () => {
      while (!received.includes('agent:streamed-through-a')) {
        const { value, done } = await text.read();
        if (done) break;
        received += value;
      }
      controller.abort();
    })();
    await agentWithKey('streamed-through-a');
    await seen;
    expect(received).toMatch(
      /event: agent\ndata: \{[^\n]*"event_type":"agent\.created"[^\n]*"target":"agent:streamed-through-a"/,
    );
    const audit = await b.request('GET', '/v1/audit?event_type=agent.created&limit=100', { token: admin });
    expect(audit.body.map((event: { target: string }) => event.target)).toContain('agent:streamed-through-a');
  });

  it("puts an approval asked through A in B's inbox, and B's decision reaches the agent through A", async () => {
    const created = await a.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'asks-through-a', allowed_tools: ['web_search'], issue_key: true },
    });
    const key = created.body.agent_key.api_key as string;
    const required = await a.request('PUT', '/admin/agents/asks-through-a/approval-required-tools', {
      token: admin,
      body: { tools: ['web_search'] },
    });
    expect(required.status).toBe(200);
    expect((await b.request('GET', '/v1/approvals?status=pending', { token: admin })).status).toBe(200);
    const asked = await a.request('POST', '/v1/approvals', {
      headers: { 'x-api-key': key },
      body: { tool: 'web_search', summary: 'Search the docs', idempotency_key: 'docs-1' },
    });
    expect(asked.status).toBe(201);
    const inbox = await b.request('GET', '/v1/approvals?status=pending', { token: admin });
    expect(inbox.body.map((approval: { id: string }) => approval.id)).toContain(asked.body.id);
    expect(
      (await b.request('POST', `/admin/approvals/${asked.body.id}/approve`, { token: admin, body: {} })).status,
    ).toBe(200);
    const decided = await a.request('GET', `/v1/approvals/${asked.body.id}`, { headers: { 'x-api-key': key } });
    expect(decided.body.status).toBe('approved');
  });
});
