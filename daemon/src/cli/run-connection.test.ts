import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from '../testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from '../testing/test-daemon.js';
import { gatehouse } from './test-cli.js';

const OPENAI_SECRET = 'sk-proj-upstream-openai-4b1d9e27c3a8f560';
const ANTHROPIC_SECRET = 'sk-ant-upstream-anthropic-8e2c7a1f0d3b9465';
const require = createRequire(import.meta.url);

/** A stand-in for both providers over HTTPS (a self-signed certificate the daemon trusts through NODE_EXTRA_CA_CERTS). */
function provider(
  dir: string,
): Promise<{ server: Server; url: string; seen: Array<{ url: string; headers: IncomingHttpHeaders }> }> {
  const tls = selfSignedCertificate(dir, { commonName: '127.0.0.1', subjectAltName: 'IP:127.0.0.1' });
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      seen.push({ url: request.url!, headers: request.headers });
      const body = JSON.parse(text || '{}') as { stream?: boolean };
      if (request.url === '/v1/chat/completions' && body.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const word of ['brokered', ' hello'])
          response.write(
            `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`,
          );
        return response.end('data: [DONE]\n\n');
      }
      if (request.url === '/v1/chat/completions') {
        response.writeHead(200, { 'content-type': 'application/json' });
        return response.end(
          JSON.stringify({
            id: 'c0',
            object: 'chat.completion',
            created: 1,
            model: 'm',
            choices: [{ index: 0, message: { role: 'assistant', content: 'openai ok' }, finish_reason: 'stop' }],
          }),
        );
      }
      if (request.url === '/v1/messages') {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const events: Array<[string, object]> = [
          [
            'message_start',
            {
              type: 'message_start',
              message: {
                id: 'msg_1',
                type: 'message',
                role: 'assistant',
                model: 'claude',
                content: [],
                stop_reason: null,
                stop_sequence: null,
                usage: { input_tokens: 1, output_tokens: 0 },
              },
            },
          ],
          ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
          [
            'content_block_delta',
            { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'anthropic ' } },
          ],
          [
            'content_block_delta',
            { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'streamed' } },
          ],
          ['content_block_stop', { type: 'content_block_stop', index: 0 }],
          [
            'message_delta',
            {
              type: 'message_delta',
              delta: { stop_reason: 'end_turn', stop_sequence: null },
              usage: { output_tokens: 2 },
            },
          ],
          ['message_stop', { type: 'message_stop' }],
        ];
        for (const [event, data] of events) response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        return response.end();
      }
      response.writeHead(404).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

/** The agent's program: the official SDKs, configured by nothing but the environment. */
const PROGRAM = `
const OpenAI = require(${JSON.stringify(require.resolve('openai'))});
const Anthropic = require(${JSON.stringify(require.resolve('@anthropic-ai/sdk'))});
(async () => {
  const openai = new OpenAI();
  const plain = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  let streamed = '';
  for await (const chunk of await openai.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }))
    streamed += chunk.choices[0]?.delta?.content ?? '';
  const anthropic = new Anthropic();
  let claude = '';
  const stream = anthropic.messages.stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
  for await (const event of stream) if (event.type === 'content_block_delta') claude += event.delta.text;
  console.log(JSON.stringify({ plain: plain.choices[0].message.content, streamed, claude, env: process.env }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('gatehouse run --connection, with the official SDKs unmodified', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sdk-'));
  const home = join(dir, 'home');
  const keychainService = testKeychainService();
  const t = { home, keychainService };
  let up: Awaited<ReturnType<typeof provider>>;
  let daemon: SpawnedDaemon;
  let url: string;
  let admin: string;

  const api = async (method: string, path: string, body?: unknown, token = admin) => {
    const response = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    up = await provider(dir);
    daemon = spawnGatehouse(['daemon', '--port', '0'], {
      GATEHOUSE_HOME: home,
      GATEHOUSE_KEYCHAIN_SERVICE: keychainService,
      NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem'),
    });
    url = (await waitForDaemon(home, daemon)).url;
    await fetch(`${url}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    admin = (
      (await (
        await fetch(`${url}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ADMIN),
        })
      ).json()) as { access_token: string }
    ).access_token;
    expect(
      (
        await api('POST', '/admin/connections', {
          name: 'openai',
          base_url: `${up.url}/v1`,
          secret: OPENAI_SECRET,
          injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/admin/connections', {
          name: 'anthropic',
          base_url: up.url,
          secret: ANTHROPIC_SECRET,
          injection: { kind: 'header', name: 'x-api-key', template: '{secret}' },
          allowed_paths: ['/v1/messages'],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/admin/agents', {
          name: 'sdk-user',
          issue_key: true,
          allowed_tools: ['connection:openai', 'connection:anthropic'],
        })
      ).status,
    ).toBe(201);
  }, 60_000);
  afterAll(async () => {
    up.server.close();
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('calls both providers through the broker, streaming, without ever seeing their secrets', async () => {
    writeFileSync(join(dir, 'agent.cjs'), PROGRAM);
    const run = await gatehouse(t, [
      'run',
      '--agent',
      'default/sdk-user',
      '--connection',
      'openai',
      '--connection',
      'anthropic',
      '--',
      process.execPath,
      join(dir, 'agent.cjs'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      plain: string;
      streamed: string;
      claude: string;
      env: Record<string, string>;
    };
    expect(result).toMatchObject({ plain: 'openai ok', streamed: 'brokered hello', claude: 'anthropic streamed' });

    // What the SDKs were given: the broker, and a token good only there.
    expect(result.env.OPENAI_BASE_URL).toBe(`${url}/proxy/openai`);
    expect(result.env.ANTHROPIC_BASE_URL).toBe(`${url}/proxy/anthropic`);
    expect(result.env.GATEHOUSE_API_KEY).toBeUndefined();
    const token = result.env.OPENAI_API_KEY!;
    expect((await api('GET', '/v1/whoami', undefined, token)).status).toBe(401);

    // What the provider received: its own secret, injected; never the agent's token.
    const openaiCalls = up.seen.filter((call) => call.url === '/v1/chat/completions');
    expect(openaiCalls).toHaveLength(2);
    for (const call of openaiCalls) expect(call.headers.authorization).toBe(`Bearer ${OPENAI_SECRET}`);
    const [claude] = up.seen.filter((call) => call.url === '/v1/messages');
    expect(claude!.headers['x-api-key']).toBe(ANTHROPIC_SECRET);
    expect(JSON.stringify(up.seen)).not.toContain(token);

    // The secrets are nowhere but the keychain: not in the program's environment, the database, the logs or the audit chain.
    const everywhere = [JSON.stringify(result.env), run.stdout, run.stderr];
    for (const file of readdirSync(home, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()))
      everywhere.push(readFileSync(join(file.parentPath, file.name)).toString('latin1'));
    everywhere.push(daemon.output());
    await new Promise((resolve) => setTimeout(resolve, 400)); // the audit batch lands
    const chain = await api('GET', '/v1/audit?limit=100');
    everywhere.push(JSON.stringify(chain.body));
    expect(JSON.stringify(chain.body)).toContain('connection.called');
    for (const text of everywhere) {
      expect(text).not.toContain(OPENAI_SECRET);
      expect(text).not.toContain(ANTHROPIC_SECRET);
    }
  }, 60_000);
});
