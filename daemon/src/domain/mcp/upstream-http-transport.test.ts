import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CreateMessageRequestSchema, JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type HttpUpstream } from '../../testing/mcp-upstream.js';
import { parseMessage, UpstreamHttpTransport } from './upstream-http-transport.js';

/**
 * What a client sees of an upstream through UpstreamHttpTransport must be what it sees through the
 * SDK's own transport: the same calls, side by side, against an upstream answering with event
 * streams and one answering with JSON.
 */
describe.each([
  { answers: 'event streams', json: false },
  { answers: 'JSON', json: true },
])('UpstreamHttpTransport against an upstream answering with $answers', ({ json }) => {
  let upstream: HttpUpstream;
  const clients: Client[] = [];
  const headers = { authorization: 'Bearer upstream-credential-31' };

  const connect = async (transport: Transport) => {
    const client = new Client({ name: 'transport-test', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
    }));
    await client.connect(transport);
    clients.push(client);
    return client;
  };

  /** What a client gets from a few calls: results, progress in order, errors as their messages. */
  const outcomes = async (client: Client) => {
    const progress: number[] = [];
    const settle = (call: Promise<unknown>) =>
      call.then(
        (result) => ({ result }),
        (error: Error) => ({ error: error.message }),
      );
    return {
      echo: await settle(client.callTool({ name: 'echo', arguments: { text: 'same either way' } })),
      slow: await settle(
        client.callTool({ name: 'slow', arguments: { ms: 60 } }, undefined, {
          onprogress: (update) => progress.push(update.progress),
        }),
      ),
      progress,
      invalid: await settle(client.callTool({ name: 'add', arguments: { a: 'one' } })),
      unknown: await settle(client.callTool({ name: 'nonexistent', arguments: {} })),
      sampled: await settle(client.callTool({ name: 'ask', arguments: { prompt: 'hello', ms: 1000 } })),
      listed: (await client.listTools()).tools.map((tool) => tool.name),
    };
  };

  beforeAll(async () => {
    upstream = await startHttpUpstream({ token: 'upstream-credential-31', json });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await upstream.close();
  });

  it("gives the client what the SDK's transport gives it, on the same kind of upstream session", async () => {
    const url = new URL(upstream.url);
    const sdk = await outcomes(await connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } })));
    const ours = await outcomes(await connect(new UpstreamHttpTransport(url, headers)));
    expect(ours).toEqual(sdk);
    expect(ours.echo).toEqual({ result: { content: [{ type: 'text', text: 'same either way' }] } });
    // An upstream answering with JSON has no stream of the call to send progress or its question on.
    if (!json) {
      expect(ours.progress).toEqual([1, 2]);
      expect(ours.sampled).toMatchObject({
        result: { content: [{ type: 'text', text: expect.stringContaining('hello') }] },
      });
    }
    // Each request carried the credential, on the session the SDK transport opened.
    expect(upstream.authorizations.every((value) => value === headers.authorization)).toBe(true);
  });

  it('leaves nothing behind per call: many calls at once raise no listener-leak warning', async () => {
    const client = await connect(new UpstreamHttpTransport(new URL(upstream.url), headers));
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const texts = Array.from({ length: 32 }, (_, index) => `call ${index}`);
      const results = await Promise.all(texts.map((text) => client.callTool({ name: 'echo', arguments: { text } })));
      expect(results.map((result) => (result.content as Array<{ text: string }>)[0]!.text)).toEqual(texts);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe.each([
  { refused: 'takes it', failFirstResume: false },
  { refused: 'refuses the first resumption', failFirstResume: true },
])(
  "UpstreamHttpTransport when the upstream closes a call's stream before answering, and $refused",
  ({ failFirstResume }) => {
    const retryMs = 300;
    let upstream: HttpUpstream;
    const clients: Client[] = [];
    beforeAll(async () => {
      upstream = await startHttpUpstream({ resumable: { retryMs, failFirstResume } });
    });
    afterAll(async () => {
      await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      await upstream.close();
    });

    /** A `poll` call: its stream closes after the first progress; the rest comes on the resumed stream. */
    const poll = async (transport: Transport) => {
      const client = new Client({ name: 'transport-test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      const progress: number[] = [];
      const result = await client.callTool({ name: 'poll', arguments: { ms: 100 } }, undefined, {
        onprogress: (update) => progress.push(update.progress),
      });
      return { result, progress };
    };

    it("comes back for the rest after the upstream's retry interval, as the SDK's transport does", async () => {
      const url = new URL(upstream.url);
      const sdk = await poll(new StreamableHTTPClientTransport(url));
      const ours = await poll(new UpstreamHttpTransport(url, {}));
      expect(ours).toEqual(sdk);
      expect(ours).toEqual({ result: { content: [{ type: 'text', text: 'polled 100' }] }, progress: [1, 2] });
      // Each client resumed once (twice when the first was refused, the second a `retry` after
      // it), and not before the `retry` the upstream's priming event named.
      const attempts = failFirstResume ? 2 : 1;
      expect(upstream.resumedAfterMs).toHaveLength(2 * attempts);
      upstream.resumedAfterMs.forEach((after, i) =>
        expect(after).toBeGreaterThanOrEqual((1 + (i % attempts)) * retryMs - 5),
      );
    });
  },
);

describe('parseMessage', () => {
  const outcome = (parse: (value: unknown) => unknown, value: unknown) => {
    try {
      return { parsed: parse(value) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };

  it("decides every message as the SDK transport's JSON-RPC schema does: the same message, or the same error", () => {
    const messages: unknown[] = [
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }], extra: true } },
      { jsonrpc: '2.0', id: 'a', error: { code: -32602, message: 'no', data: { why: 1 } } },
      { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' } },
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'sampling/createMessage',
        params: { messages: [], _meta: { progressToken: 3 } },
      },
      { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 3, progress: 1 } },
      // Refused by every member of the union: the SDK's error, whichever member the keys name.
      { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'both' } },
      { jsonrpc: '2.0', id: 1, result: 'not an object' },
      { jsonrpc: '1.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 1.5, method: 'tools/call' },
      { jsonrpc: '2.0', method: 'notifications/progress', extra: 1 },
      { jsonrpc: '2.0', id: 1, error: { code: 'x' } },
      { jsonrpc: '2.0', id: 1 },
      [],
      'text',
      null,
    ];
    for (const message of messages)
      expect(outcome(parseMessage, message)).toEqual(outcome((value) => JSONRPCMessageSchema.parse(value), message));
  });
});
