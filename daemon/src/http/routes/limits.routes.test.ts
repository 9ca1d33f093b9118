import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('usage limits on the broker', () => {
  let t: TestDaemon;
  let admin: string;
  let server: Server;
  let upstreamCalls = 0;

  const newAgent = async (name: string) => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name, issue_key: true, allowed_tools: ['connection:up'] },
    });
    return { key: created.body.agent_key.api_key as string, keyId: created.body.agent_key.id as string };
  };
  const call = (key: string) =>
    fetch(`${t.url}/proxy/up/v1/x`, { headers: { authorization: `Bearer ${key}` } }).then(async (response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    }));
  const setLimit = (agent: string, body: Record<string, unknown>) =>
    t.request('PUT', `/admin/agents/${agent}/limits`, { token: admin, body });

  beforeAll(async () => {
    server = createServer((request, response) => {
      upstreamCalls++;
      request.resume();
      response.setHeader('content-type', 'application/json');
      response.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ({ t, admin } = await startWithAdmin());
    await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'up',
        base_url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        secret: 'sk-limits',
        injection: { kind: 'query', name: 'key' },
      },
    });
  });
  afterAll(async () => {
    server.close();
    await t.dispose();
  });

  it('lets no more than the window allows through, of 50 concurrent callers', async () => {
    const { key } = await newAgent('crowd');
    const set = await setLimit('crowd', { windows: [{ name: 'hour', limit: 20, seconds: 3600 }] });
    expect(set.status).toBe(200);
    const before = upstreamCalls;
    const answers = await Promise.all(Array.from({ length: 50 }, () => call(key)));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(20);
    expect(upstreamCalls - before).toBe(20);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(refused.body.code).toBe('limit_reached');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-policy')).toBe('"hour";q=20;w=3600');
    expect(refused.headers.get('ratelimit')).toMatch(/^"hour";r=0;t=\d+$/);
    const ok = answers.find((answer) => answer.status === 200)!;
    expect(ok.headers.get('ratelimit')).toMatch(/^"hour";r=\d+;t=\d+$/);

    const listed = await t.request('GET', '/v1/agents/crowd/limits', { token: admin });
    expect(listed.body[0].windows[0]).toMatchObject({ name: 'hour', limit: 20, used: 20 });
  });

  it('applies several named windows at once, and a key limit beside the agent limit', async () => {
    const { key, keyId } = await newAgent('windows');
    await setLimit('windows', {
      windows: [
        { name: 'day', limit: 5, seconds: 86_400 },
        { name: 'hour', limit: 10, seconds: 3600 },
      ],
    });
    await setLimit('windows', { key_id: keyId, windows: [{ name: 'key-hour', limit: 3, seconds: 3600 }] });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(key)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it('counts remaining uses, refills them, and refuses past the expiry', async () => {
    const { key } = await newAgent('uses');
    await setLimit('uses', { remaining: 2, refill: { amount: 2, interval_seconds: 1 } });
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(200);
    const empty = await call(key);
    expect(empty.status).toBe(429);
    expect(empty.headers.get('retry-after')).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await call(key)).status).toBe(200);

    await setLimit('uses', { expires_at: new Date(Date.now() - 1000).toISOString() });
    const expired = await call(key);
    expect(expired.status).toBe(429);
    expect(expired.body.detail).toMatch(/expired/);
  });

  it('limits one connection grant', async () => {
    const { key } = await newAgent('granted');
    expect((await setLimit('granted', { connection: 'up', remaining: 1 })).status).toBe(200);
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(429);
    expect((await setLimit('granted', { connection: 'nope', remaining: 1 })).status).toBe(404);
  });

  it('keeps its counters across a restart', async () => {
    const { key } = await newAgent('restart');
    await setLimit('restart', { remaining: 3, windows: [{ name: 'hour', limit: 100, seconds: 3600 }] });
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(200);
    t = await t.restart();
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    expect((await call(key)).status).toBe(200);
    expect((await call(key)).status).toBe(429);
    const listed = await t.request('GET', '/v1/agents/restart/limits', { token: admin });
    expect(listed.body[0]).toMatchObject({ remaining: 0, windows: [expect.objectContaining({ used: 3 })] });
  });
});
