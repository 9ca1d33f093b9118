import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPath, routes, type RouteDescriptor } from '@gatehouse/shared';
import { startTestDaemon, type TestDaemon } from '../testing/test-daemon.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any;
}

/** Sends bytes exactly as given (fetch would fix the request line and the headers) and reads the answer. */
function rawRequest(port: number, head: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The daemon may reset a connection it refused while the rest of the request was still arriving.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      const [top = '', text = ''] = received.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = top.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: the assertions say so
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text, body });
    });
    socket.write(head);
  });
}

/** An answer is an RFC 7807 problem with the given stable code. */
function expectProblem(answer: RawAnswer, status: number, code: string) {
  expect({ status: answer.status, type: answer.headers['content-type'], code: answer.body?.code }).toEqual({
    status,
    type: 'application/problem+json; charset=utf-8',
    code,
  });
  expect(answer.body).toMatchObject({ type: `urn:gatehouse:problem:${code}`, status, title: expect.any(String) });
}

describe('answers outside the routes and at their edges', () => {
  let t: TestDaemon;
  let root: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    root = (await t.setupAdmin()).access_token;
  });
  afterAll(() => t.dispose());

  it('refuses a huge or non-finite offset on every list with a 400 problem', async () => {
    const lists = Object.values<RouteDescriptor>(routes).filter((route) => route.paged);
    expect(lists.length).toBeGreaterThan(5);
    for (const route of lists) {
      const params = Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, 'x']));
      for (const offset of ['1e309', '999999999999999999999999999999', '-1']) {
        const answer = await t.request(route.method, `${buildPath(route.path, params)}?offset=${offset}`, {
          token: root,
        });
        expect([route.path, offset, answer.status, answer.body.code]).toEqual([
          route.path,
          offset,
          400,
          'validation_failed',
        ]);
      }
    }
  });

  const get = (target: string, headers = '') =>
    rawRequest(
      t.daemon.port,
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${t.daemon.port}\r\n${headers}Connection: close\r\n\r\n`,
    );

  it('answers a bad percent-encoding with a problem that does not echo the path', async () => {
    const answer = await get('/v1/agents/%zz<script>');
    expectProblem(answer, 400, 'bad_request');
    expect(answer.text).not.toContain('%zz');
    expect(answer.text).not.toContain('<script>');
  });

  it('answers a path parameter over the length limit with a 414 problem', async () => {
    expectProblem(await get(`/v1/agents/${'a'.repeat(500)}`), 414, 'uri_too_long');
  });

  it('answers oversized headers with a 431 problem', async () => {
    expectProblem(await get('/healthz', `X-Padding: ${'a'.repeat(20_000)}\r\n`), 431, 'headers_too_large');
  });

  it('answers a request it cannot read with a 400 problem', async () => {
    expectProblem(await rawRequest(t.daemon.port, 'NOT HTTP AT ALL\r\n\r\n'), 400, 'bad_request');
  });

  it('answers an unknown route and an unknown method with a 404 problem', async () => {
    expectProblem(await get('/v1/nothing-here'), 404, 'not_found');
    expectProblem(
      await rawRequest(
        t.daemon.port,
        `PUT /healthz HTTP/1.1\r\nHost: 127.0.0.1:${t.daemon.port}\r\nConnection: close\r\n\r\n`,
      ),
      404,
      'not_found',
    );
  });

  it('refuses an absolute-form target naming a foreign host, and accepts one naming this daemon', async () => {
    expectProblem(await get('http://evil.example/v1/whoami'), 403, 'host_not_allowed');
    expectProblem(await get(`http://evil.example:${t.daemon.port}/healthz`), 403, 'host_not_allowed');
    expect((await get(`http://127.0.0.1:${t.daemon.port}/healthz`)).status).toBe(200);
  });

  it('refuses two Host headers, and none, like a foreign Host', async () => {
    const port = t.daemon.port;
    for (const second of [`127.0.0.1:${port}`, 'evil.example']) {
      const answer = await rawRequest(
        port,
        `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nHost: ${second}\r\nConnection: close\r\n\r\n`,
      );
      expectProblem(answer, 403, 'host_not_allowed');
    }
    expectProblem(
      await rawRequest(port, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n'),
      403,
      'host_not_allowed',
    );
  });
});
