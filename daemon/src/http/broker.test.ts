import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { BROKER_BODY_LIMIT } from './broker.js';

const SECRET = 'sk-upstream-7f3e9c1d2b4a6e8f0a1c3e5d';

/** A stand-in provider on loopback that records what it was sent. */
function upstream(): Promise<{
  server: Server;
  url: string;
  seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }>;
}> {
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ url: request.url!, headers: request.headers, body });
      if (request.url!.startsWith('/v1/stream')) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: one\n\n');
        // The second event waits for the client to have read the first: proof nothing buffers.
        server.once('next-event', () => response.end('data: two\n\n'));
        return;
      }
      if (request.url!.startsWith('/v1/teapot')) {
        response.writeHead(418, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        return response.end('{"error":"short and stout"}');
      }
      if (request.url!.startsWith('/v1/traced')) {
        response.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'upstream-req-42' });
        return response.end('{}');
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, method: request.method }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

describe('connections and the broker', () => {
  let t: TestDaemon;
  let admin: string;
  let up: Awaited<ReturnType<typeof upstream>>;
  let key: string;

  const broker = (path: string, init: RequestInit = {}, credential = key) =>
    fetch(`${t.url}/proxy${path}`, { ...init, headers: { authorization: `Bearer ${credential}`, ...init.headers } });
  const calls = async () => {
    await t.daemon.services.callAudit.flush();
    const events = await t.request('GET', '/v1/audit?event_type=connection.called&limit=100', { token: admin });
    return events.body as Array<{ outcome: string; target: string; metadata: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    up = await upstream();
    const created = await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'provider',
        base_url: `${up.url}/`,
        secret: SECRET,
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        allowed_paths: ['/v1/**'],
      },
    });
    expect(created.status).toBe(201);
    const agent = await t.request('POST', '/admin/agents', { token: admin, body: { name: 'caller', issue_key: true } });
    key = agent.body.agent_key.api_key;
    expect(
      (
        await t.request('POST', '/admin/agents/caller/tools', {
          token: admin,
          body: { tools: ['connection:provider'] },
        })
      ).status,
    ).toBe(200);
  });
  afterAll(async () => {
    up.server.close();
    await t.dispose();
  });

  it('keeps the secret in the keychain only and never shows it again', async () => {
    const listed = await t.request('GET', '/v1/connections', { token: admin });
    expect(listed.body).toEqual([
      expect.objectContaining({ name: 'provider', tool: 'connection:provider', base_url: up.url }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect(await keytar.getPassword(t.keychainService, `connection:${listed.body[0].id}`)).toBe(SECRET);
  });

  it('refuses a base URL in the clear to another machine, and a name taken', async () => {
    const body = { name: 'x', secret: 's', injection: { kind: 'query', name: 'key' } };
    const plain = await t.request('POST', '/admin/connections', {
      token: admin,
      body: { ...body, base_url: 'http://example.com' },
    });
    expect(plain.status).toBe(400);
    expect(plain.body.errors[0].location).toBe('body.base_url');
    const taken = await t.request('POST', '/admin/connections', {
      token: admin,
      body: { ...body, name: 'provider', base_url: 'https://example.com' },
    });
    expect(taken.status).toBe(409);
  });

  it('forwards with the upstream credential in place of the agent’s', async () => {
    const response = await broker('/provider/v1/echo?limit=2&api_key=leak', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: '{"hello":"world"}',
    });
    expect(response.status).toBe(200);
    // Written by the broker itself (the answer bypasses Fastify's reply): the headers every answer has.
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    expect(await response.json()).toEqual({ ok: true, method: 'POST' });
    const last = up.seen.at(-1)!;
    expect(last.url).toBe('/v1/echo?limit=2&api_key=leak');
    expect(last.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(last.headers['x-api-key']).toBeUndefined();
    expect(last.body).toBe('{"hello":"world"}');
    const [call] = await calls();
    expect(call).toMatchObject({
      outcome: 'success',
      target: 'connection:provider',
      metadata: { method: 'POST', path: '/v1/echo?limit=2', status: 200 },
    });
  });

  it('streams server-sent events as they come', async () => {
    const response = await broker('/provider/v1/stream');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    up.server.emit('next-event');
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: two\n\n');
    expect((await reader.read()).done).toBe(true);
  });

  it("passes the upstream's errors through unchanged", async () => {
    const response = await broker('/provider/v1/teapot');
    expect(response.status).toBe(418);
    expect(response.headers.get('x-upstream')).toBe('yes');
    expect(await response.text()).toBe('{"error":"short and stout"}');
  });

  it("answers with the daemon's request id, the upstream's kept as x-upstream-request-id", async () => {
    const response = await broker('/provider/v1/traced');
    expect(response.status).toBe(200);
    // The id the daemon's log knows the call by: one of its own, as on its other answers.
    const daemonId = (await fetch(`${t.url}/healthz`)).headers.get('x-request-id')!;
    const ours = response.headers.get('x-request-id');
    expect(ours).not.toBe(daemonId);
    expect(ours?.split('-')[0]).toBe(daemonId.split('-')[0]);
    expect(response.headers.get('x-upstream-request-id')).toBe('upstream-req-42');
  });

  it('refuses with a problem that says why', async () => {
    const outside = await broker('/provider/admin');
    expect(outside.status).toBe(403);
    expect(((await outside.json()) as { code: string }).code).toBe('path_not_allowed');

    const other = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'ungranted', issue_key: true },
    });
    const refused = await broker('/provider/v1/echo', {}, other.body.agent_key.api_key);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('connection_not_granted');

    expect((await broker('/nowhere/v1/x')).status).toBe(404);
    expect((await broker('/provider/v1/echo', {}, 'agent_nope_nope')).status).toBe(401);

    await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'down',
        base_url: 'http://127.0.0.1:9',
        secret: SECRET,
        injection: { kind: 'query', name: 'key' },
      },
    });
    await t.request('POST', '/admin/agents/caller/tools', { token: admin, body: { tools: ['connection:down'] } });
    const unreachable = await broker('/down/anything');
    expect(unreachable.status).toBe(502);
    expect(((await unreachable.json()) as { code: string }).code).toBe('upstream_unreachable');

    const refusals = (await calls()).map((call) => call.metadata.refused).filter(Boolean);
    expect(refusals).toEqual(
      expect.arrayContaining(['path_not_allowed', 'connection_not_granted', 'upstream_unreachable']),
    );
  });

  it('audits the status, bytes and duration of a relayed answer', async () => {
    const response = await broker('/provider/v1/teapot');
    const bytes = (await response.arrayBuffer()).byteLength;
    const call = (await calls()).find((c) => c.metadata.path === '/v1/teapot')!;
    expect(call).toMatchObject({ outcome: 'failure', metadata: { method: 'GET', status: 418, bytes } });
    expect(call.metadata.duration_ms).toEqual(expect.any(Number));
  });

  it('refuses a body over the limit before reading it, and audits the refusal', async () => {
    // The length alone says it is too large: the broker answers without waiting for the body.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = request(`${t.url}/proxy/provider/v1/echo`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-length': String(BROKER_BODY_LIMIT + 1) },
      });
      sent.on('response', (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode!, body });
          sent.destroy();
        });
      });
      sent.on('error', reject);
      sent.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { code: string }).code).toBe('payload_too_large');
    expect((await calls()).map((call) => call.metadata.refused)).toContain('payload_too_large');
  });

  it('refuses the very next call once the grant is revoked', async () => {
    const issued = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'revocable', issue_key: true, allowed_tools: ['connection:provider'] },
    });
    const credential = issued.body.agent_key.api_key as string;
    expect((await broker('/provider/v1/echo', {}, credential)).status).toBe(200);
    const revoked = await t.request('DELETE', '/admin/agents/revocable/tools', {
      token: admin,
      body: { tools: ['connection:provider'] },
    });
    expect(revoked.status).toBe(200);
    const refused = await broker('/provider/v1/echo', {}, credential);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('connection_not_granted');
  });

  it('stops granting once the connection is deleted', async () => {
    expect((await t.request('DELETE', '/admin/connections/down', { token: admin })).status).toBe(200);
    expect((await broker('/down/anything')).status).toBe(404);
  });

  it('leaves the upstream secret nowhere but the keychain', async () => {
    await calls();
    await t.daemon.services.usage.flush();
    for (const file of readdirSync(t.home)) {
      if (!/\.(sqlite|db|log|json)|-wal$/.test(file) && !file.startsWith('gatehouse')) continue;
      const path = join(t.home, file);
      expect(readFileSync(path).includes(SECRET), file).toBe(false);
    }
    const logs = readdirSync(join(t.home, 'logs'), { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
    for (const log of logs) expect(readFileSync(join(log.parentPath, log.name)).includes(SECRET)).toBe(false);
    const chain = await t.request('GET', '/v1/audit?limit=1000', { token: admin });
    expect(JSON.stringify(chain.body)).not.toContain(SECRET);
    expect((await t.request('GET', '/v1/audit/verify', { token: admin })).body.is_valid).toBe(true);
  });
});

describe('the broker at its limits', () => {
  let t: TestDaemon;
  let admin: string;
  let key: string;
  let upstreamUrl: string;
  let server: Server;
  /** What the upstream got of each request: bytes of body, and whether it came to its end. */
  const received: Array<{ url: string; bytes: number; ended: boolean; closed: boolean }> = [];
  const TIMEOUT_MS = 400;

  const calls = async () => {
    await t.daemon.services.callAudit.flush();
    const events = await t.request('GET', '/v1/audit?event_type=connection.called&limit=100', { token: admin });
    return events.body as Array<{ outcome: string; metadata: Record<string, unknown> }>;
  };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const seen = { url: request.url!, bytes: 0, ended: false, closed: false };
      received.push(seen);
      request.on('data', (chunk: Buffer) => (seen.bytes += chunk.length));
      request.on('end', () => (seen.ended = true));
      request.on('close', () => (seen.closed = true));
      // Never answers: the broker's time to the first byte runs out.
      if (request.url === '/hang') return;
      // Starts a stream, then stalls: the time between chunks runs out.
      if (request.url === '/stall') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.write('data: one\n\n');
        return;
      }
      request.on('end', () => response.end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ t, admin } = await startWithAdmin({ config: { brokerTimeoutsMs: { headers: TIMEOUT_MS, body: TIMEOUT_MS } } }));
    expect(
      (
        await t.request('POST', '/admin/connections', {
          token: admin,
          body: {
            name: 'slow',
            base_url: upstreamUrl,
            secret: SECRET,
            injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
          },
        })
      ).status,
    ).toBe(201);
    const agent = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'patient', issue_key: true, allowed_tools: ['connection:slow'] },
    });
    key = agent.body.agent_key.api_key;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await t.dispose();
  });

  it('answers upstream_timeout (504) when the upstream does not start answering in time, and lets go of it', async () => {
    const response = await fetch(`${t.url}/proxy/slow/hang`, { headers: { authorization: `Bearer ${key}` } });
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await response.json()) as { code: string }).code).toBe('upstream_timeout');
    // The upstream's request is given up, not left hanging on the broker's connection.
    await expect.poll(() => received.find((r) => r.url === '/hang')?.closed).toBe(true);
    const call = (await calls()).find((c) => c.metadata.path === '/hang')!;
    expect(call).toMatchObject({
      outcome: 'failure',
      metadata: { status: 504, bytes: 0, refused: 'upstream_timeout' },
    });
  });

  it('cuts an answer whose upstream stops sending for longer than allowed between chunks, and audits it interrupted', async () => {
    const response = await fetch(`${t.url}/proxy/slow/stall`, { headers: { authorization: `Bearer ${key}` } });
    // The answer had begun: its status and first chunk are the upstream's, then the connection is cut.
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: one\n\n');
    await expect(reader.read()).rejects.toThrow();
    await expect.poll(() => received.find((r) => r.url === '/stall')?.closed).toBe(true);
    // Audited once the daemon has seen its side of the connection close, which may come after the agent's.
    await expect
      .poll(async () => (await calls()).find((c) => c.metadata.path === '/stall'))
      .toMatchObject({
        outcome: 'failure',
        metadata: { status: 200, bytes: 'data: one\n\n'.length, interrupted: true },
      });
  });

  it('refuses a chunked body once it passes the size limit (413), without forwarding the rest', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let sent = 0;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // No Content-Length: the body is chunked, so only its bytes can tell its size.
      const upload = request(`${t.url}/proxy/slow/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/octet-stream' },
      });
      let answered = false;
      const send = () => {
        while (!answered && sent <= BROKER_BODY_LIMIT + 4 * chunk.length) {
          sent += chunk.length;
          if (!upload.write(chunk)) return void upload.once('drain', send);
        }
      };
      upload.on('response', (response) => {
        answered = true;
        let body = '';
        response.on('data', (data: Buffer) => (body += data.toString()));
        response.on('end', () => {
          resolve({ status: response.statusCode!, body });
          upload.destroy();
        });
      });
      upload.on('error', reject);
      send();
    });
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { code: string }).code).toBe('payload_too_large');
    const upload = received.find((r) => r.url === '/upload')!;
    // The upstream got no more than the limit, and never a whole request to act on.
    await expect.poll(() => upload.closed).toBe(true);
    expect(upload.ended).toBe(false);
    expect(upload.bytes).toBeLessThanOrEqual(BROKER_BODY_LIMIT);
    expect(sent).toBeGreaterThan(BROKER_BODY_LIMIT);
    expect((await calls()).find((c) => c.metadata.path === '/upload')).toMatchObject({
      outcome: 'failure',
      metadata: { status: 413, refused: 'payload_too_large' },
    });
  });
});
