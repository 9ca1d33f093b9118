import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type HttpUpstream } from '../testing/mcp-upstream.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

const eventually = async (test: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};

/**
 * The rest of MCP through the gateway, for the servers an agent may use: the upstream's own
 * requests (sampling, elicitation, roots) answered by the agent's client, resource subscriptions,
 * log messages at the agent's level, progress and cancellation both ways — with the official SDK
 * client against server-everything (stdio) and an SDK-built Streamable HTTP upstream.
 */
describe('the MCP gateway passes the rest of the protocol through', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  const clients: Client[] = [];

  const newAgent = async (name: string, tools: string[]) => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name, allowed_tools: tools, issue_key: true },
    });
    expect(created.status).toBe(201);
    return created.body.agent_key.api_key as string;
  };

  /** An SDK client of the gateway that can sample, elicit and list its roots, as an assistant's can. */
  const connect = async (key: string, setup: (client: Client) => void = () => undefined) => {
    const client = new Client(
      { name: 'assistant', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
    );
    setup(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    upstream = await startHttpUpstream();
    for (const body of [
      { name: 'remote', transport: 'http', url: upstream.url },
      { name: 'everything', transport: 'stdio', command: process.execPath, args: [everything] },
    ])
      await t.request('POST', '/admin/servers', { token: admin, body });
    for (const name of ['remote', 'everything']) {
      const deadline = Date.now() + 20_000;
      while ((await t.request('GET', `/v1/servers/${name}`, { token: admin })).body.status !== 'running') {
        if (Date.now() > deadline) throw new Error(`${name} never ran`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await t.dispose();
    await upstream.close();
  });

  it("relays the upstream's sampling, elicitation and roots requests to the agent's client and its answers back", async () => {
    const key = await newAgent('assistant', [
      'everything.trigger-sampling-request',
      'everything.trigger-elicitation-request',
      'everything.get-roots-list',
    ]);
    const sampled: string[] = [];
    const client = await connect(key, (c) => {
      c.setRequestHandler(CreateMessageRequestSchema, async (request) => {
        sampled.push(JSON.stringify(request.params.messages));
        return { role: 'assistant', model: 'test-model-3b7', content: { type: 'text', text: 'sampled-answer-91c' } };
      });
      c.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'decline' }));
      c.setRequestHandler(ListRootsRequestSchema, async () => ({
        roots: [{ uri: 'file:///work/project-root-4d1', name: 'project' }],
      }));
    });

    const sampling = await client.callTool({
      name: 'everything.trigger-sampling-request',
      arguments: { prompt: 'prompt-from-agent-77' },
    });
    expect(JSON.stringify(sampling.content)).toContain('sampled-answer-91c');
    expect(JSON.stringify(sampling.content)).toContain('test-model-3b7');
    expect(sampled.join()).toContain('prompt-from-agent-77');

    const elicitation = await client.callTool({ name: 'everything.trigger-elicitation-request', arguments: {} });
    expect(JSON.stringify(elicitation.content)).toContain('User declined');

    const roots = await client.callTool({ name: 'everything.get-roots-list', arguments: {} });
    expect(JSON.stringify(roots.content)).toContain('file:///work/project-root-4d1');
  });

  it("gives the upstream the agent client's own refusal when that client cannot answer", async () => {
    const key = await newAgent('plain', ['remote.ask']);
    const client = new Client({ name: 'plain', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    clients.push(client);
    const result = await client.callTool({ name: 'remote.ask', arguments: { prompt: 'hi', ms: 5000 } });
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toMatch(/Method not found/);
  });

  it("cancels the agent's answer when the upstream gives up on its own request, the session's first or a later one", async () => {
    const key = await newAgent('abandoned', ['remote.ask']);
    const asked: AbortSignal[] = [];
    const client = await connect(key, (c) =>
      // Never answers: only the upstream's cancellation, relayed under the id this client knows, ends it.
      c.setRequestHandler(CreateMessageRequestSchema, (_request, extra) => {
        asked.push(extra.signal);
        return new Promise(() => undefined);
      }),
    );
    // Each request of the upstream times out after 300 ms, and it sends notifications/cancelled.
    // The first is request 0 of both the upstream's session and the agent's (the SDK drops a
    // cancellation of id 0: typescript-sdk#2283).
    for (const round of [1, 2]) {
      const result = await client.callTool({ name: 'remote.ask', arguments: { prompt: 'unanswered', ms: 300 } });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/timed out/);
      expect(asked).toHaveLength(round);
      await eventually(() => asked[round - 1]!.aborted, `the agent's sampling handler saw cancellation ${round}`);
      expect(String(asked[round - 1]!.reason)).toMatch(/timed out/i);
    }
  });

  it('subscribes to a resource upstream, delivers its updates, and unsubscribes upstream when the agent does', async () => {
    const key = await newAgent('follower', ['everything.toggle-subscriber-updates']);
    const updated: string[] = [];
    const client = await connect(key, (c) =>
      c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri)),
    );
    const { resources } = await client.listResources();
    const uri = resources.find((resource) => resource.uri.startsWith('demo://resource/static/document/'))!.uri;
    await client.subscribeResource({ uri });

    // The upstream sends an update at once for each URI it holds a subscription to.
    await client.callTool({ name: 'everything.toggle-subscriber-updates', arguments: {} });
    await eventually(() => updated.includes(uri), 'the resource update reached the agent');
    await client.callTool({ name: 'everything.toggle-subscriber-updates', arguments: {} });

    await client.unsubscribeResource({ uri });
    updated.length = 0;
    await client.callTool({ name: 'everything.toggle-subscriber-updates', arguments: {} });
    await client.callTool({ name: 'everything.toggle-subscriber-updates', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(updated).toEqual([]);
  });

  it('refuses subscriptions and log messages of a server the agent may not use at all', async () => {
    const key = await newAgent('outsider', ['remote.echo']);
    const messages: LoggingMessageNotification['params'][] = [];
    const client = await connect(key, (c) =>
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params)),
    );
    const { resources } = await client.listResources();
    expect(resources.filter((resource) => resource.uri.startsWith('demo://'))).toEqual([]);
    await expect(client.subscribeResource({ uri: 'demo://resource/static/document/architecture.md' })).rejects.toThrow(
      /Unknown resource/,
    );

    // Another agent's subscription makes the upstream log; none of it reaches this one.
    const theirMessages: LoggingMessageNotification['params'][] = [];
    const insider = await connect(await newAgent('insider', ['everything.echo']), (c) =>
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void theirMessages.push(n.params)),
    );
    await insider.setLoggingLevel('debug');
    const { resources: theirs } = await insider.listResources();
    await insider.subscribeResource({ uri: theirs.at(-1)!.uri });
    await eventually(() => theirMessages.length > 0, "the upstream's log message reached the insider");
    expect(messages).toEqual([]);
  });

  it('passes the log messages of its servers on at the level the agent set', async () => {
    const key = await newAgent('listener', ['everything.echo']);
    const messages: LoggingMessageNotification['params'][] = [];
    const client = await connect(key, (c) =>
      c.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params)),
    );
    const { resources } = await client.listResources();
    const [first, second] = resources.filter((resource) => resource.uri.startsWith('demo://'));

    await client.setLoggingLevel('info');
    // server-everything logs each subscription it receives at `info`.
    await client.subscribeResource({ uri: first!.uri });
    await eventually(
      () => messages.some((message) => String(message.data).includes(first!.uri)),
      "the upstream's log message reached the agent",
    );

    await client.setLoggingLevel('error');
    messages.length = 0;
    await client.subscribeResource({ uri: second!.uri });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(messages.filter((message) => String(message.data).includes(second!.uri))).toEqual([]);
  });

  it("serves one server's tools under its own names at /mcp/<server>, with the same permissions", async () => {
    const key = await newAgent('single', ['remote.echo', 'everything.echo']);
    const client = new Client({ name: 'single', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp/remote`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    clients.push(client);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['echo']);
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'unprefixed' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'unprefixed' }]);
    await expect(client.callTool({ name: 'add', arguments: { a: 1, b: 2 } })).rejects.toThrow(/not_granted/);
    await expect(client.callTool({ name: 'everything.echo', arguments: { message: 'x' } })).rejects.toThrow(
      /unknown_tool/,
    );

    // A session belongs to the endpoint that opened it.
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    const elsewhere = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'mcp-session-id': sessionId,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(elsewhere.status).toBe(404);
  });

  it("cancels the upstream's call when the agent cancels it", async () => {
    const key = await newAgent('canceller', ['remote.slow']);
    const client = await connect(key);
    const controller = new AbortController();
    const call = client.callTool({ name: 'remote.slow', arguments: { ms: 1200 } }, undefined, {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    await expect(call).rejects.toThrow(/abort/i);
    await eventually(() => upstream.cancelled.includes(1200), 'the upstream saw the cancellation');
  });
});
