import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startHttpUpstream, type HttpUpstream } from '../testing/mcp-upstream.js';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

/** A stdio MCP server (built with the SDK) whose `crash` tool kills its process mid-call. */
const CRASHING_SERVER = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
const server = new McpServer({ name: 'crashing', version: '1.0.0' });
server.registerTool('crash', { description: 'Dies mid-call' }, async () => { process.exit(7); });
server.registerTool('ping', { description: 'Answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
await server.connect(new StdioServerTransport());
`;

describe('the MCP gateway (/mcp)', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  const keys = new Map<string, string>();
  const clients: Client[] = [];

  const until = async (name: string, test: (s: any) => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const { body } = await t.request('GET', `/v1/servers/${name}`, { token: admin });
      if (test(body)) return body;
      if (Date.now() > deadline) throw new Error(`server ${name} stayed ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const newAgent = async (name: string, tools: string[]) => {
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name, allowed_tools: tools, issue_key: true },
    });
    expect(created.status).toBe(201);
    keys.set(name, created.body.agent_key.api_key);
    return created.body.agent_key.api_key as string;
  };

  /** An SDK client connected to the gateway with the agent's key as its Bearer credential. */
  const connect = async (agent: string) => {
    const client = new Client({ name: `test-${agent}`, version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${keys.get(agent)}` } },
      }),
    );
    clients.push(client);
    return client;
  };

  /**
   * The agent's `mcp.tool_call` events once each of `results` is among them: calls are audited
   * in batches (every 200 ms), so right after a call its event may not be written yet.
   */
  const auditOf = async (agent: string, results: string[]) => {
    for (let attempt = 0; ; attempt += 1) {
      const events = await t.request('GET', '/v1/audit?event_type=mcp.tool_call&limit=200', { token: admin });
      const mine = (events.body as Array<{ actor: string; target: string; metadata: any; outcome: string }>).filter(
        (event) => event.actor === `agent:${agent}`,
      );
      const seen = new Set(mine.map((event) => event.metadata.result));
      if (results.every((result) => seen.has(result)) || attempt === 100) return mine;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const pendingApproval = async (tool: string) => {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const list = await t.request('GET', '/v1/approvals?status=pending', { token: admin });
      const found = list.body.find((approval: { tool: string }) => approval.tool === tool);
      if (found) return found as { id: string; summary: string };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no pending approval for ${tool}`);
  };

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin({ config: { mcpApprovalTimeoutSeconds: 2 } }));
    upstream = await startHttpUpstream({ token: 'remote-credential-77' });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'remote', transport: 'http', url: upstream.url, credential: 'remote-credential-77' },
    });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'everything', transport: 'stdio', command: process.execPath, args: [everything] },
    });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: {
        name: 'crashing',
        transport: 'stdio',
        command: process.execPath,
        args: ['--input-type=module', '-e', CRASHING_SERVER],
      },
    });
    for (const name of ['remote', 'everything', 'crashing']) await until(name, (s) => s.status === 'running');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await t.dispose();
    await upstream.close();
  });

  it('lists only the granted tools, calls them, and refuses the rest with an MCP error and an audit entry', async () => {
    await newAgent('worker', ['remote.echo', 'everything.get-sum']);
    const client = await connect('worker');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['everything.get-sum', 'remote.echo']);
    expect(tools.find((tool) => tool.name === 'remote.echo')?.inputSchema).toMatchObject({
      properties: { text: { type: 'string' } },
    });

    const echoed = await client.callTool({ name: 'remote.echo', arguments: { text: 'secret-argument-5f2' } });
    expect(echoed.content).toEqual([{ type: 'text', text: 'secret-argument-5f2' }]);
    const sum = await client.callTool({ name: 'everything.get-sum', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(sum.content)).toContain('5');

    await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 1 } })).rejects.toThrow(
      /not available to this agent \(not_granted\)/,
    );
    await expect(client.callTool({ name: 'nowhere.tool', arguments: {} })).rejects.toThrow(/unknown_tool/);

    const audit = await auditOf('worker', ['ok', 'not_granted', 'unknown_tool']);
    expect(audit.map((event) => [event.target, event.metadata.result])).toEqual(
      expect.arrayContaining([
        ['tool:remote.echo', 'ok'],
        ['tool:everything.get-sum', 'ok'],
        ['tool:remote.add', 'not_granted'],
        ['tool:nowhere.tool', 'unknown_tool'],
      ]),
    );
    const echoEvent = audit.find((event) => event.target === 'tool:remote.echo')!;
    expect(echoEvent.metadata).toMatchObject({ server: 'remote', arguments_hash: expect.stringMatching(/^sha256:/) });
    expect(echoEvent.metadata.duration_ms).toEqual(expect.any(Number));
    expect(JSON.stringify(audit)).not.toContain('secret-argument-5f2');
  });

  it("counts tool calls against the agent's usage limits: over one, a 429 with Retry-After and RateLimit headers", async () => {
    const key = await newAgent('limited', ['remote.echo']);
    const set = await t.request('PUT', '/admin/agents/limited/limits', {
      token: admin,
      body: { windows: [{ name: 'minute', limit: 2, seconds: 60 }] },
    });
    expect(set.status).toBe(200);
    const client = await connect('limited');
    await client.listTools();
    // A tool it does not hold is the gateway's refusal and uses nothing up.
    await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 1 } })).rejects.toThrow(/not_granted/);
    for (const text of ['one', 'two']) await client.callTool({ name: 'remote.echo', arguments: { text } });
    await expect(client.callTool({ name: 'remote.echo', arguments: { text: 'three' } })).rejects.toThrow(/429/);

    const refused = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'remote.echo' } }),
    });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ code: 'limit_reached' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-policy')).toBe('"minute";q=2;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/^"minute";r=0;t=\d+$/);
  });

  it('asks the permission model once per tool call, for the usage limits and the call alike', async () => {
    await newAgent('counted', ['remote.echo']);
    const client = await connect('counted');
    const authorize = vi.spyOn(t.daemon.services.permissions, 'authorize');
    try {
      await client.callTool({ name: 'remote.echo', arguments: { text: 'once' } });
      await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 1 } })).rejects.toThrow(/not_granted/);
      expect(authorize.mock.calls.map(([, tool]) => tool)).toEqual(['remote.echo', 'remote.add']);
    } finally {
      authorize.mockRestore();
    }
  });

  it('takes a new grant on the next tools/list and tools/call of an open session, and a revoked grant away', async () => {
    const client = await connect('worker');
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (listChanged += 1));
    await t.request('POST', '/admin/agents/worker/tools', { token: admin, body: { tools: ['remote.add'] } });
    // Told on its event stream, without asking: a client that keeps the list refreshes it.
    await vi.waitFor(() => expect(listChanged).toBeGreaterThan(0), { timeout: 5000 });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('remote.add');
    expect((await client.callTool({ name: 'remote.add', arguments: { a: 1, b: 2 } })).content).toEqual([
      { type: 'text', text: '3' },
    ]);
    await t.request('DELETE', '/admin/agents/worker/tools', { token: admin, body: { tools: ['remote.add'] } });
    await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 2 } })).rejects.toThrow(/not_granted/);
    expect((await client.listTools()).tools.map((tool) => tool.name)).not.toContain('remote.add');
  });

  it('holds an approval-required call in the inbox with progress notifications until a human approves it', async () => {
    await newAgent('careful', ['remote.add', 'remote.echo']);
    await t.request('PUT', '/admin/agents/careful/approval-required-tools', {
      token: admin,
      body: { tools: ['remote.add'] },
    });
    const client = await connect('careful');
    const progress: Array<{ progress: number; message?: string }> = [];
    const call = client.callTool({ name: 'remote.add', arguments: { a: 20, b: 22 } }, undefined, {
      onprogress: (update) => progress.push(update),
    });
    const approval = await pendingApproval('remote.add');
    expect(approval.summary).toContain('"a":20');
    expect(approval.summary).toMatch(/sha256:[0-9a-f]{64}/);
    // Long enough for a progress notification (one a second), short of the 2 s timeout.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(
      (await t.request('POST', `/admin/approvals/${approval.id}/approve`, { token: admin, body: {} })).status,
    ).toBe(200);
    expect((await call).content).toEqual([{ type: 'text', text: '42' }]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]!.message).toMatch(/approvals inbox/);
    const audit = await auditOf('careful', ['ok']);
    expect(audit.find((event) => event.target === 'tool:remote.add')?.metadata).toMatchObject({
      result: 'ok',
      approval_id: approval.id,
    });
  });

  it('answers a denied approval, and one that timed out, with an MCP error saying so', async () => {
    const client = await connect('careful');
    const denied = client.callTool({ name: 'remote.add', arguments: { a: 1, b: 1 } });
    const approval = await pendingApproval('remote.add');
    await t.request('POST', `/admin/approvals/${approval.id}/deny`, { token: admin, body: { note: 'not today' } });
    await expect(denied).rejects.toThrow(/A human denied this call of "remote.add": not today/);

    await expect(client.callTool({ name: 'remote.add', arguments: { a: 2, b: 2 } })).rejects.toThrow(
      /No human approved this call of "remote.add" in time/,
    );
    const results = (await auditOf('careful', ['approval_denied', 'approval_expired'])).map(
      (event) => event.metadata.result,
    );
    expect(results).toEqual(expect.arrayContaining(['approval_denied', 'approval_expired']));
  });

  it('refuses the next call of an open session once the agent is suspended, and again once revoked', async () => {
    await newAgent('suspended', ['remote.echo']);
    await newAgent('revoked', ['remote.echo']);
    const suspended = await connect('suspended');
    const revoked = await connect('revoked');
    expect((await suspended.callTool({ name: 'remote.echo', arguments: { text: 'a' } })).isError).toBeFalsy();
    expect((await revoked.callTool({ name: 'remote.echo', arguments: { text: 'a' } })).isError).toBeFalsy();

    await t.request('POST', '/v1/agents/suspended/suspend', { token: admin });
    await t.request('DELETE', '/v1/agents/revoked', { token: admin });
    await expect(suspended.callTool({ name: 'remote.echo', arguments: { text: 'b' } })).rejects.toThrow(/401/);
    await expect(revoked.callTool({ name: 'remote.echo', arguments: { text: 'b' } })).rejects.toThrow(/401/);

    // Resumed, the same key works again, on a new session.
    await t.request('POST', '/v1/agents/suspended/reactivate', { token: admin });
    const resumed = await connect('suspended');
    expect((await resumed.callTool({ name: 'remote.echo', arguments: { text: 'c' } })).content).toEqual([
      { type: 'text', text: 'c' },
    ]);
  });

  it("refuses a request without a credential, and another agent's session", async () => {
    const anonymous = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(anonymous.connect(new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`)))).rejects.toThrow(/401/);

    const worker = await connect('worker');
    const sessionId = (worker.transport as StreamableHTTPClientTransport).sessionId!;
    const hijack = await fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${keys.get('careful')}`,
        'mcp-session-id': sessionId,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(hijack.status).toBe(404);
  });

  it('answers a call whose server crashes mid-call with an MCP error; the server restarts and the daemon stays up', async () => {
    await newAgent('crasher', ['crashing.crash', 'crashing.ping']);
    const client = await connect('crasher');
    await expect(client.callTool({ name: 'crashing.crash', arguments: {} })).rejects.toThrow(
      /tool server of "crashing.crash" failed/,
    );
    expect((await t.request('GET', '/v1/status')).status).toBe(200);
    await until('crashing', (s) => s.status === 'failed' || s.status === 'starting');
    await until('crashing', (s) => s.status === 'running');
    expect((await client.callTool({ name: 'crashing.ping', arguments: {} })).content).toEqual([
      { type: 'text', text: 'pong' },
    ]);
    expect((await auditOf('crasher', ['upstream_failed'])).map((event) => event.metadata.result)).toContain(
      'upstream_failed',
    );
  });

  it("passes the upstream's progress on, in order and all of it before the result", async () => {
    await newAgent('patient', ['remote.slow']);
    const client = await connect('patient');
    for (let call = 0; call < 5; call += 1) {
      const progress: number[] = [];
      const result = await client.callTool({ name: 'remote.slow', arguments: { ms: 100 } }, undefined, {
        onprogress: (update) => progress.push(update.progress),
      });
      expect(result.content).toEqual([{ type: 'text', text: 'waited 100' }]);
      expect(progress).toEqual([1, 2]);
    }
  });

  it('answers a lone tools/call as JSON, and as an event stream once progress must go out before the result', async () => {
    await newAgent('wire', ['remote.echo', 'remote.slow']);
    const transport = (await connect('wire')).transport as StreamableHTTPClientTransport;
    const post = (id: number, params: object) =>
      fetch(`${t.url}/mcp`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${keys.get('wire')}`,
          'mcp-session-id': transport.sessionId!,
          'mcp-protocol-version': transport.protocolVersion!,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params }),
      });

    const plain = await post(7, { name: 'remote.echo', arguments: { text: 'as json' } });
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'as json' }] },
    });

    const refused = await post(8, { name: 'remote.add', arguments: { a: 1, b: 2 } });
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: 8, error: { code: -32602 } });

    const streamed = await post(9, { name: 'remote.slow', arguments: { ms: 100 }, _meta: { progressToken: 'p-9' } });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    const events = (await streamed.text())
      .split('\n\n')
      .filter(Boolean)
      .map((event) => JSON.parse(event.replace(/^event: message\ndata: /, '')));
    expect(events.map((event) => event.method ?? event.id)).toEqual([
      'notifications/progress',
      'notifications/progress',
      9,
    ]);
    expect(events[0].params).toMatchObject({ progressToken: 'p-9', progress: 1 });
  });

  it('passes prompts and resources through for the servers the agent may use', async () => {
    await newAgent('reader', ['everything.echo']);
    const client = await connect('reader');
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toContain('everything.simple-prompt');
    const prompt = await client.getPrompt({ name: 'everything.simple-prompt' });
    expect(prompt.messages.length).toBeGreaterThan(0);
    const { resources } = await client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const read = await client.readResource({ uri: resources[0]!.uri });
    expect(read.contents[0]!.uri).toBe(resources[0]!.uri);

    // An agent holding none of a server's tools sees none of its prompts.
    const worker = await connect('careful');
    expect((await worker.listPrompts()).prompts.filter((p) => p.name.startsWith('everything.'))).toEqual([]);
  });

  it('serves 50 agents calling at once, each its own tools', async () => {
    const agents = Array.from({ length: 50 }, (_, index) => `crowd-${index}`);
    for (const agent of agents) await newAgent(agent, ['remote.echo']);
    const results = await Promise.all(
      agents.map(async (agent) => {
        const client = await connect(agent);
        const result = await client.callTool({ name: 'remote.echo', arguments: { text: agent } });
        return (result.content as Array<{ text: string }>)[0]!.text;
      }),
    );
    expect(results).toEqual(agents);
  });
});

describe('MCP gateway sessions', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  let key: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin({ config: { mcpSessionIdleSeconds: 1 } }));
    upstream = await startHttpUpstream();
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'remote', transport: 'http', url: upstream.url },
    });
    for (let attempt = 0; (await t.request('GET', '/v1/servers/remote', { token: admin })).body.status !== 'running';)
      if (++attempt > 200) throw new Error('remote did not start');
      else await new Promise((resolve) => setTimeout(resolve, 100));
    key = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        body: { name: 'idler', allowed_tools: ['remote.echo'], issue_key: true },
      })
    ).body.agent_key.api_key;
  });
  afterAll(async () => {
    await t.dispose();
    await upstream.close();
  });

  const post = (body: object, sessionId?: string) =>
    fetch(`${t.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(sessionId ? { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18' } : {}),
      },
      body: JSON.stringify(body),
    });

  it('ends a session left without requests, and keeps one whose client still listens', async () => {
    const initialized = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    expect(initialized.status).toBe(200);
    const abandoned = initialized.headers.get('mcp-session-id')!;
    await initialized.text();
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, abandoned)).status).toBe(202);

    // An SDK client keeps its event stream (GET) open: its session stays however long it waits.
    const client = new Client({ name: 'listener', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${t.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const late = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, abandoned);
    expect(late.status).toBe(404);
    expect(((await late.json()) as { error: { message: string } }).error.message).toMatch(/Session not found/);
    expect((await client.callTool({ name: 'remote.echo', arguments: { text: 'still here' } })).content).toEqual([
      { type: 'text', text: 'still here' },
    ]);
    await client.close();
  });
});
