import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContractClient, type StreamMessage } from './contract-client.js';
import { queryString } from './query.js';

/**
 * A loopback Fastify that answers a few of the contract's paths the way the daemon does, with
 * knobs the real daemon does not have: which token it accepts, and an event stream that drops
 * its connection after two events.
 */
let app: FastifyInstance;
let url: string;
let validToken: string;
let renewals: number;
let lastEventIds: (string | undefined)[];

beforeEach(async () => {
  app = Fastify();
  validToken = 'token-1';
  renewals = 0;
  lastEventIds = [];
  app.get('/v1/whoami', async (request, reply) => {
    if (request.headers.authorization !== `Bearer ${validToken}`)
      return reply.status(401).type('application/problem+json').send({
        type: 'urn:gatehouse:problem:unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: 'The access token has expired.',
        code: 'unauthorized',
      });
    return { principal: 'user', project: request.headers['x-project-id'] ?? null };
  });
  app.get('/v1/agents', async (request, reply) => {
    const { limit = '20', offset = '0', cursor } = request.query as Record<string, string>;
    const all = Array.from({ length: 7 }, (_, index) => ({ id: `a${index}` }));
    const start = cursor ? Number(cursor.slice('after-a'.length)) + 1 : Number(offset);
    const page = all.slice(start, start + Number(limit));
    if (start + page.length < all.length) reply.header('x-next-cursor', `after-${page.at(-1)!.id}`);
    return reply.header('x-total-count', String(all.length)).send(page);
  });
  app.get('/admin/projects', async (_request, reply) =>
    reply.status(502).type('text/html').send('<h1>Bad gateway</h1>'),
  );
  app.get('/v1/events', (request, reply) => {
    if (request.headers['x-project-id'] === 'not-a-member') {
      lastEventIds.push(undefined);
      return reply.status(403).send({
        type: 'urn:gatehouse:problem:forbidden',
        title: 'Forbidden',
        status: 403,
        detail: 'Not a member.',
        code: 'forbidden',
      });
    }
    const after = request.headers['last-event-id'] as string | undefined;
    lastEventIds.push(after);
    const start = after === undefined ? 1 : Number(after) + 1;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write(': heartbeat\n\n');
    // Two events per connection, the second split across writes, then the connection drops.
    reply.raw.write(`id: ${start}\nevent: agent\ndata: {"sequence_number":${start}}\n\n`);
    reply.raw.write(`id: ${start + 1}\nevent: ke`);
    setTimeout(() => {
      reply.raw.write(`y\ndata: {"sequence_number":${start + 1}}\r\n\r\n`);
      setTimeout(() => reply.raw.destroy(), 20);
    }, 20);
  });
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterEach(() => app.close());

const client = (options: Partial<ConstructorParameters<typeof ContractClient>[0]> = {}) =>
  new ContractClient({ baseUrl: url, fetch, ...options });

describe('ContractClient', () => {
  it('answers with the data and, for paged lists, the X-Total-Count', async () => {
    const page = await client().call('listAgents', { query: { limit: 3, offset: 6 } });
    expect(page).toEqual({ ok: true, data: [{ id: 'a6' }], total: 7 });
  });

  it('answers a list with a next page with its X-Next-Cursor, and sends it back', async () => {
    const first = await client().call('listAgents', { query: { limit: 4 } });
    expect(first).toMatchObject({ ok: true, total: 7, next: 'after-a3' });
    const second = await client().call('listAgents', { query: { limit: 4, cursor: first.ok ? first.next : '' } });
    expect(second).toEqual({ ok: true, data: [{ id: 'a4' }, { id: 'a5' }, { id: 'a6' }], total: 7 });
  });

  it("passes the daemon's problem through as it is, and makes one of an answer that is not one", async () => {
    const refused = await client().call('whoami', {});
    expect(refused).toMatchObject({
      ok: false,
      problem: { code: 'unauthorized', detail: 'The access token has expired.' },
    });
    const garbled = await client().call('listProjects', {});
    expect(garbled).toMatchObject({ ok: false, problem: { code: 'internal', status: 500 } });
    expect(garbled.ok || garbled.problem.detail).toMatch(/HTTP 502 without a problem document/);
  });

  it('turns an unreachable or stopped daemon into daemon_unavailable', async () => {
    const closed = `http://127.0.0.1:1`;
    expect(await client({ baseUrl: closed }).call('whoami', {})).toMatchObject({
      ok: false,
      problem: { code: 'daemon_unavailable', status: 503 },
    });
    expect(await client({ baseUrl: () => null }).call('whoami', {})).toMatchObject({
      ok: false,
      problem: { code: 'daemon_unavailable', detail: 'The Gatehouse daemon is not running.' },
    });
  });

  it('renews the token once for many calls refused together, then sends each again', async () => {
    let token = 'stale';
    const tokens = {
      token: () => token,
      async renew() {
        renewals += 1;
        await new Promise((resolve) => setTimeout(resolve, 30));
        token = validToken;
      },
    };
    const c = client({ tokens, projectId: 'p1' });
    const results = await Promise.all(Array.from({ length: 8 }, () => c.call('whoami', {})));
    expect(renewals).toBe(1);
    for (const result of results) expect(result).toEqual({ ok: true, data: { principal: 'user', project: 'p1' } });
  });

  it('answers the 401 when the renewal gets no new token', async () => {
    const c = client({ tokens: { token: () => 'stale', renew: async () => void (renewals += 1) } });
    expect(await c.call('whoami', {})).toMatchObject({ ok: false, problem: { code: 'unauthorized' } });
    expect(renewals).toBe(1);
  });

  it('sends a call-given token as it is, or none, and never renews it', async () => {
    const tokens = { token: () => 'stale', renew: async () => void (renewals += 1) };
    const c = client({ tokens });
    expect(await c.call('whoami', {}, { token: validToken })).toMatchObject({ ok: true });
    expect(await c.call('whoami', {}, { token: null })).toMatchObject({ ok: false, problem: { code: 'unauthorized' } });
    expect(await c.call('whoami', {}, { token: 'other' })).toMatchObject({ ok: false });
    expect(renewals).toBe(0);
  });

  it('shares one renewal between a renewal asked for ahead of expiry and the calls refused meanwhile', async () => {
    let token = 'stale';
    const c = client({
      tokens: {
        token: () => token,
        async renew() {
          renewals += 1;
          await new Promise((resolve) => setTimeout(resolve, 30));
          token = validToken;
        },
      },
    });
    const [, ...results] = await Promise.all([c.renew(), c.call('whoami', {}), c.call('whoami', {})]);
    expect(renewals).toBe(1);
    for (const result of results) expect(result).toMatchObject({ ok: true });
  });

  it('resumes the event stream with Last-Event-ID after a dropped connection, missing and repeating nothing', async () => {
    const received: StreamMessage[] = [];
    const abort = new AbortController();
    const done = client().follow({ reconnectMs: 10, signal: abort.signal }, (message) => {
      received.push(message);
      if (received.length === 5) abort.abort();
    });
    await done;
    expect(received.map((message) => [message.id, message.event, JSON.parse(message.data)])).toEqual([
      ['1', 'agent', { sequence_number: 1 }],
      ['2', 'key', { sequence_number: 2 }],
      ['3', 'agent', { sequence_number: 3 }],
      ['4', 'key', { sequence_number: 4 }],
      ['5', 'agent', { sequence_number: 5 }],
    ]);
    expect(lastEventIds.slice(0, 3)).toEqual([undefined, '2', '4']);
  });

  it('stops following when the stream is refused for a reason reconnecting cannot change', async () => {
    const refused = await client().follow({ projectId: 'not-a-member', reconnectMs: 10 }, () => undefined);
    expect(refused).toMatchObject({ code: 'forbidden', status: 403 });
    expect(lastEventIds).toHaveLength(1);
  });
});

describe('queryString', () => {
  it('leaves out absent and empty values, repeats arrays and encodes', () => {
    expect(queryString({ a: 1, b: undefined, c: '', d: ['x y', 'z&'] })).toBe('?a=1&d=x%20y&d=z%26');
    expect(queryString({})).toBe('');
    expect(queryString(undefined)).toBe('');
  });
});
