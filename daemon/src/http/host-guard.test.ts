import { request as httpRequest } from 'node:http';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';
import { remoteNames } from './host-guard.js';

/** A raw request, so the test controls the Host header exactly (fetch always sets one). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Host and Origin guard', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.dispose());

  it('answers requests addressed to a loopback name or address with our port', async () => {
    for (const name of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2', 'LOCALHOST']) {
      const host = `${name}:${t.daemon.port}`;
      expect((await rawGet(t.daemon.port, '/healthz', { host })).status).toBe(200);
    }
  });

  it.each([
    ['a foreign name', 'evil.example'],
    ['a foreign name with our port', `evil.example:PORT`],
    ['loopback with another port', '127.0.0.1:1'],
    ['a name that only starts like loopback', '127.0.0.1.evil.example:PORT'],
    ['an empty Host', ''],
  ])('refuses %s', async (_, host) => {
    const response = await rawGet(t.daemon.port, '/healthz', { host: host.replace('PORT', String(t.daemon.port)) });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('host_not_allowed');
  });

  it('refuses a foreign or opaque Origin and accepts its own', async () => {
    const foreign = await t.request('GET', '/auth/setup', { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('origin_not_allowed');
    expect((await t.request('GET', '/auth/setup', { headers: { origin: 'null' } })).status).toBe(403);
    expect((await t.request('GET', '/auth/setup', { headers: { origin: t.url } })).status).toBe(200);
  });

  it('knows, for --allow-remote on a wildcard, the names of this machine that reach it', () => {
    const names = remoteNames('0.0.0.0');
    expect(names).toContain(hostname());
    expect(names).toContain('127.0.0.1');
    expect(names.filter((name) => name.includes(':')).every((name) => name.startsWith('['))).toBe(true); // IPv6 as Host spells it
    expect(remoteNames('192.168.1.20')).toEqual(['192.168.1.20']);
    expect(remoteNames('fd00::20')).toEqual(['[fd00::20]']);
  });

  it('never sends CORS headers', async () => {
    const response = await t.request('GET', '/healthz', { headers: { origin: t.url } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('--allow-origin', () => {
  const listed = 'https://console.example';
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({ config: { allowOrigins: [listed] } });
  });
  afterAll(() => t.dispose());

  const preflight = (path: string, origin: string) =>
    t.request('OPTIONS', path, {
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-otas-user-token, x-otas-project-id, content-type',
      },
    });

  it('answers preflights from a listed origin, on the OTAS routes and the API alike', async () => {
    for (const path of ['/api/agent/v1/create/', '/auth/login']) {
      const answer = await preflight(path, listed);
      expect(answer.status).toBe(204);
      expect(answer.headers.get('access-control-allow-origin')).toBe(listed);
      expect(answer.headers.get('access-control-allow-methods')).toContain('POST');
      expect(answer.headers.get('access-control-allow-headers')).toContain('x-otas-user-token');
    }
  });

  it("adds the CORS headers to a listed origin's requests, the agents' fast whoami included", async () => {
    const setup = await t.request('GET', '/auth/setup', { headers: { origin: listed } });
    expect(setup.status).toBe(200);
    expect(setup.headers.get('access-control-allow-origin')).toBe(listed);
    expect(setup.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const otas = await t.request('POST', '/api/user/v1/authenticate/', { headers: { origin: listed } });
    expect(otas.status).toBe(400);
    expect(otas.headers.get('access-control-allow-origin')).toBe(listed);
    const admin = (await t.setupAdmin()).access_token;
    const key = (
      await t.request('POST', '/admin/agents', { token: admin, body: { name: 'browser-agent', issue_key: true } })
    ).body.agent_key.api_key;
    const whoami = await t.request('GET', '/v1/whoami', { headers: { origin: listed, 'x-api-key': key } });
    expect(whoami.status).toBe(200);
    expect(whoami.headers.get('access-control-allow-origin')).toBe(listed);
    // A cross-origin reader sees what pages a list and says when to come back.
    const agents = await t.request('GET', '/v1/agents?limit=1', { token: admin, headers: { origin: listed } });
    expect(agents.status).toBe(200);
    const exposed = agents.headers.get('access-control-expose-headers')?.split(/,\s*/) ?? [];
    expect(exposed).toEqual(
      expect.arrayContaining([
        'X-Request-Id',
        'X-Total-Count',
        'X-Next-Cursor',
        'Link',
        'Retry-After',
        'RateLimit',
        'RateLimit-Policy',
      ]),
    );
  });

  it('still refuses every other origin, preflights included, with no CORS header', async () => {
    const foreign = await preflight('/api/agent/v1/create/', 'https://evil.example');
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const otas = await t.request('POST', '/api/user/v1/login/', {
      headers: { origin: 'https://console.example.evil.example' },
      body: { email: 'admin', password: 'x' },
    });
    expect(otas.status).toBe(403);
    expect(otas.body).toEqual({ status: 0, status_description: 'origin_not_allowed' });
    expect(otas.headers.get('access-control-allow-origin')).toBeNull();
  });
});
