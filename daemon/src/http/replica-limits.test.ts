import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from '@gatehouse/shared';
import { currentTotpCode } from '../domain/auth/totp.js';
import { randomBase62 } from '../domain/credentials.js';
import { readKeyEncryptionKey } from '../secrets/key-encryption-key.js';
import { ADMIN, startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../testing/test-database.js';

const server = testDatabaseServer();
const STEP_MS = 30_000;

/*
 * Two replicas on one PostgreSQL database: failures sent through A and B count against one limit,
 * where each replica alone has seen fewer than the limit (requests alternate between them).
 */
describe.skipIf(!server)('limits and lockouts shared by two replicas (needs GATEHOUSE_TEST_DATABASE_URL)', () => {
  let shared: TestDatabase;
  let a: TestDaemon;
  let b: TestDaemon;
  let admin: string;
  const replica = (i: number) => (i % 2 ? b : a);

  beforeAll(async () => {
    shared = await createTestDatabase(server!);
    // The TOTP secrets are shared through the database, as on a team server.
    const kek = readKeyEncryptionKey({ base64: randomBytes(32).toString('base64'), variable: 'GATEHOUSE_KEK' });
    const start = () => startTestDaemon({ database: shared, config: { secretStore: 'database', kek } });
    a = await start();
    b = await start();
    admin = (await a.setupAdmin()).access_token;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    for (const daemon of [a, b]) if (daemon) rmSync(daemon.home, { recursive: true, force: true });
    await shared?.drop();
  });

  const createUser = async (username: string, password: string) =>
    expect((await a.request('POST', '/admin/users', { token: admin, body: { username, password } })).status).toBe(201);

  it('locks an account after 5 wrong passwords sent at once through A and B', async () => {
    await createUser('frank', 'frank password 1');
    const wrong = await Promise.all(Array.from({ length: 5 }, (_, i) => replica(i).login('frank', `wrong ${i}`)));
    expect(wrong.map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
    for (const daemon of [a, b]) expect((await daemon.login('frank', 'frank password 1')).status).toBe(429);
  });

  it('limits failed authentications against one key prefix across A and B', async () => {
    const created = await a.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'target', issue_key: true },
    });
    const key: string = created.body.agent_key.api_key;
    // The key's prefix with another secret part (a valid checksum, so the prefix is looked up).
    const guess = (i: number) => {
      const unchecked = `${key.slice(0, 15)}${randomBase62(32)}`;
      const headers = { 'x-api-key': unchecked + checksumOf(unchecked) };
      return replica(i).request('GET', '/v1/whoami', { headers });
    };
    for (let i = 0; i < 10; i++) expect((await guess(i)).status).toBe(401);
    for (const i of [0, 1]) expect((await guess(i)).status).toBe(429);
    expect((await b.request('GET', '/v1/whoami', { headers: { 'x-api-key': key } })).status).toBe(200);
  });

  it('allows 5 TOTP tries a minute across A and B', async () => {
    await createUser('gina', 'gina password 1');
    const token = (await a.login('gina', 'gina password 1')).body.access_token as string;
    const secret: string = (await a.request('POST', '/auth/mfa/setup', { token })).body.secret;
    // The enrolment's code is the first try.
    const verified = await b.request('POST', '/auth/mfa/verify', { token, body: { code: currentTotpCode(secret) } });
    expect(verified.body).toEqual({ mfa_enabled: true });
    for (let i = 0; i < 4; i++) expect((await replica(i).login('gina', 'gina password 1', '000000')).status).toBe(401);
    const throttled = await a.login('gina', 'gina password 1', currentTotpCode(secret, Date.now() + STEP_MS));
    expect(throttled.status).toBe(429);
    expect(throttled.body.code).toBe('rate_limited');
  });

  /** A user with TOTP on (its enrolment verified through B): the secret. */
  const enrolled = async (username: string) => {
    await createUser(username, `${username} password 1`);
    const token = (await a.login(username, `${username} password 1`)).body.access_token as string;
    const secret: string = (await a.request('POST', '/auth/mfa/setup', { token })).body.secret;
    const verified = await b.request('POST', '/auth/mfa/verify', { token, body: { code: currentTotpCode(secret) } });
    expect(verified.body).toEqual({ mfa_enabled: true });
    return secret;
  };

  it('accepts a TOTP code once: used through A, it is refused through B', async () => {
    const secret = await enrolled('hana');
    // The next step's code: the enrolment used the current one.
    const code = currentTotpCode(secret, Date.now() + STEP_MS);
    expect((await a.login('hana', 'hana password 1', code)).status).toBe(200);
    const replayed = await b.login('hana', 'hana password 1', code);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('unauthorized');
  });

  it('accepts one of the same TOTP code sent at once through A and B', async () => {
    const secret = await enrolled('ivan');
    const code = currentTotpCode(secret, Date.now() + STEP_MS);
    const statuses = await Promise.all([a, b, a, b].map((daemon) => daemon.login('ivan', 'ivan password 1', code)));
    expect(statuses.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  describe('usage limits', () => {
    let upstream: Server;
    let upstreamCalls = 0;
    beforeAll(async () => {
      upstream = createServer((request, response) => {
        upstreamCalls++;
        request.resume();
        response.setHeader('content-type', 'application/json');
        response.end('{"ok":true}');
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const created = await a.request('POST', '/admin/connections', {
        token: admin,
        body: {
          name: 'up',
          base_url: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          secret: 'sk-limits',
          injection: { kind: 'query', name: 'key' },
        },
      });
      expect(created.status).toBe(201);
    });
    afterAll(() => upstream?.close());

    /** `n` calls at once through the broker, alternating between A and B; the statuses that came back. */
    const crowd = async (agent: string, limit: Record<string, unknown>, n: number) => {
      const created = await a.request('POST', '/admin/agents', {
        token: admin,
        body: { name: agent, issue_key: true, allowed_tools: ['connection:up'] },
      });
      const key = created.body.agent_key.api_key as string;
      expect((await a.request('PUT', `/admin/agents/${agent}/limits`, { token: admin, body: limit })).status).toBe(200);
      const before = upstreamCalls;
      const statuses = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          fetch(`${replica(i).url}/proxy/up/v1/x`, { headers: { authorization: `Bearer ${key}` } }).then(
            (response) => response.status,
          ),
        ),
      );
      expect(upstreamCalls - before).toBe(statuses.filter((status) => status === 200).length);
      return statuses;
    };
    const passed = (statuses: number[]) => statuses.filter((status) => status === 200).length;

    it('lets exactly a window’s limit through, of 50 callers spread over A and B', async () => {
      const statuses = await crowd('crowd', { windows: [{ name: 'hour', limit: 20, seconds: 3600 }] }, 50);
      expect(passed(statuses)).toBe(20);
      expect(statuses.filter((status) => status === 429)).toHaveLength(30);
      const listed = await b.request('GET', '/v1/agents/crowd/limits', { token: admin });
      expect(listed.body[0].windows[0]).toMatchObject({ limit: 20, used: 20 });
    });

    it('lets exactly the remaining uses through, of 50 callers spread over A and B', async () => {
      expect(passed(await crowd('uses', { remaining: 7 }, 50))).toBe(7);
      const listed = await a.request('GET', '/v1/agents/uses/limits', { token: admin });
      expect(listed.body[0].remaining).toBe(0);
    });

    it('reports in RateLimit what is left to both replicas', async () => {
      await crowd('headers', { windows: [{ name: 'hour', limit: 20, seconds: 3600 }] }, 0);
      const key = (await a.request('POST', '/admin/agents/headers/keys', { token: admin, body: {} })).body
        .api_key as string;
      const left = async (i: number) =>
        (await fetch(`${replica(i).url}/proxy/up/v1/x`, { headers: { authorization: `Bearer ${key}` } })).headers.get(
          'ratelimit',
        );
      expect(await left(0)).toMatch(/^"hour";r=19;/);
      expect(await left(1)).toMatch(/^"hour";r=18;/);
      expect(await left(0)).toMatch(/^"hour";r=17;/);
    });

    it('leases a larger budget in shares and still lets exactly the limit through', async () => {
      // A budget of 200 is leased 4 uses at a time.
      const statuses = await crowd('large', { windows: [{ name: 'hour', limit: 200, seconds: 3600 }] }, 250);
      expect(passed(statuses)).toBe(200);
    });
  });

  // Last: afterwards this address may not sign in for a while.
  it('limits failed sign-ins from one address across A and B', async () => {
    // A successful sign-in clears the address's failures.
    expect((await b.login(ADMIN.username, ADMIN.password)).status).toBe(200);
    for (let i = 0; i < 20; i++) expect((await replica(i).login(`nobody-${i}`, 'wrong password')).status).toBe(401);
    for (const daemon of [a, b]) {
      const refused = await daemon.login(ADMIN.username, ADMIN.password);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });
});
