import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestLine } from '../logging.js';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { fastLane } from './fast-lane.js';
import { addressCheck } from './host-guard.js';

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request with exactly the headers given (fetch adds its own), answered whole. */
const send = (url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  new Promise<RawAnswer>((resolve, reject) => {
    const outgoing = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (incoming) => {
      let body = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (body += chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode!, headers: incoming.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });

/** The headers two answers may differ in: their time, request id and connection handling. */
const comparable = ({
  date: _,
  'x-request-id': id,
  connection: __,
  'keep-alive': ___,
  ...rest
}: IncomingHttpHeaders) => {
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  return rest;
};

describe('the fast lane (GET /v1/whoami for agents, before Fastify)', () => {
  let t: TestDaemon;
  let admin: string;
  let key: string;
  let agentToken: string;
  // A lane of the test daemon's services on a server of its own, where what it does not take
  // is answered 599 by a stand-in for Fastify.
  let lane: Server;
  let laneUrl: string;
  let closing = false;
  const lines: RequestLine[] = [];

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'lane-runner', issue_key: true, allowed_tools: [] },
    });
    key = created.body.agent_key.api_key;
    agentToken = (await t.request('POST', '/v1/auth/token', { body: { agent_id: created.body.id, secret: key } })).body
      .access_token;

    let port = 0;
    const answer = fastLane({
      services: t.daemon.services,
      addressed: addressCheck({ port: () => port, scheme: 'http' }),
      closing: () => closing,
      logRequest: (line) => lines.push(line),
    });
    lane = createServer((request, response) => {
      const fastify = () => response.writeHead(599).end('fastify');
      const answering = answer(request, response);
      if (!answering) fastify();
      else void answering.then((answered) => answered || fastify());
    });
    await new Promise<void>((resolve) => lane.listen(0, '127.0.0.1', resolve));
    port = (lane.address() as AddressInfo).port;
    laneUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    lane.close();
    await t.dispose();
  });

  it("answers an agent's whoami, by key or token, with Fastify's status, headers and bytes, and logs it", async () => {
    const credentials: Array<Record<string, string>> = [
      { 'x-api-key': key },
      { authorization: `Bearer ${agentToken}` },
    ];
    for (const credential of credentials) {
      const viaLane = await send(`${laneUrl}/v1/whoami`, { headers: credential });
      // A query string is not the lane's: the daemon answers `/v1/whoami?` through Fastify.
      const viaFastify = await send(`${t.url}/v1/whoami?`, { headers: credential });
      expect(viaLane.status).toBe(200);
      expect(viaLane.body).toBe(viaFastify.body);
      expect(comparable(viaLane.headers)).toEqual(comparable(viaFastify.headers));
      expect(JSON.parse(viaLane.body)).toMatchObject({ principal: 'agent', agent: { name: 'lane-runner' } });
      // And the daemon itself answers the plain path the same way (through its own lane).
      expect((await send(`${t.url}/v1/whoami`, { headers: credential })).body).toBe(viaFastify.body);
    }
    expect(lines.at(-1)).toMatchObject({ method: 'GET', url: '/v1/whoami', status: 200, reqId: expect.any(String) });
  });

  it('leaves everything out of the ordinary to Fastify, having written nothing', async () => {
    const host = new URL(laneUrl).host;
    const asKey = { 'x-api-key': key };
    const notTaken: Array<[string, Parameters<typeof send>[1], string?]> = [
      ['no credential', {}],
      ['a refused key (recorded by Fastify, once)', { headers: { 'x-api-key': `${key.slice(0, -4)}AAAA` } }],
      ['a human', { headers: { authorization: `Bearer ${admin}` } }],
      ['a Host the guard refuses', { headers: { ...asKey, host: `evil.example:${host.split(':')[1]}` } }],
      ['another Origin', { headers: { ...asKey, origin: 'http://evil.example' } }],
      ['another method', { method: 'POST', headers: asKey }],
      ['a body', { headers: { ...asKey, 'content-type': 'application/json', 'content-length': '2' }, body: '{}' }],
      ['a query', { headers: asKey }, '/v1/whoami?x=1'],
      ['another path', { headers: asKey }, '/v1/whoami/'],
    ];
    const logged = lines.length;
    for (const [what, options, path] of notTaken) {
      const answer = await send(`${laneUrl}${path ?? '/v1/whoami'}`, options);
      expect.soft({ what, status: answer.status, body: answer.body }).toEqual({ what, status: 599, body: 'fastify' });
    }
    closing = true;
    expect((await send(`${laneUrl}/v1/whoami`, { headers: asKey })).status).toBe(599);
    closing = false;
    expect(lines.length).toBe(logged);
  });
});

describe('over TLS (--tls-cert, --tls-key)', () => {
  let t: TestDaemon;
  let cert: string;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tls-'));
    const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile],
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(certFile, 'utf8');
    t = await startTestDaemon({ config: { tls: { cert: certFile, key: keyFile } } });
  });
  afterAll(() => t.dispose());

  it('serves the lane and Fastify alike over https', async () => {
    expect(t.url).toMatch(/^https:/);
    const get = (path: string) =>
      new Promise<number>((resolve, reject) =>
        httpsGet(`${t.url}${path}`, { ca: cert }, (answer) => resolve(answer.resume().statusCode!)).on('error', reject),
      );
    expect(await get('/healthz')).toBe(200);
    // A refused key goes through the lane's checks to Fastify's 401.
    expect(await get('/v1/whoami')).toBe(401);
  });
});
