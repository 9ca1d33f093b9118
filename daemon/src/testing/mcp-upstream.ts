import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { CreateMessageResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

export interface HttpUpstream {
  url: string;
  /** The Authorization headers it received, in order. */
  authorizations: Array<string | undefined>;
  /** The `ms` of each `slow` call its client cancelled before it was over. */
  cancelled: number[];
  /** With `resumable`: how long after each `poll` call's stream was closed its client came back for the rest. */
  resumedAfterMs: number[];
  /** Adds a tool to every open session and tells their clients the list changed. */
  addTool(name: string): void;
  /** Removes a tool added with addTool from every open session and tells their clients. */
  removeTool(name: string): void;
  close(): Promise<void>;
}

/**
 * A Streamable HTTP MCP server built with the official SDK, as a test upstream: `echo`, `add`,
 * `slow` (sends progress while it waits, notes when it is cancelled) and `ask` (asks its client to
 * sample a message, giving up after `ms`). With `token`, requests without
 * `Authorization: Bearer <token>` get 401. With `json`, it answers a request with nothing to send
 * before the response as JSON rather than as an event stream (the SDK's `enableJsonResponse`).
 * With `resumable`, its event streams can be resumed (an event store, the priming event naming
 * `retryMs`), and it has `poll` too, which sends progress, closes its call's stream (SEP-1699's
 * polling), waits `ms` and answers: its client must come back with `Last-Event-ID` for the rest
 * (with `failFirstResume`, twice: the first time from an event id is refused with a 503).
 */
export async function startHttpUpstream(
  options: { token?: string; json?: boolean; resumable?: { retryMs: number; failFirstResume?: boolean } } = {},
): Promise<HttpUpstream> {
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  const extraTools: string[] = [];
  /** The added tools as registered in each session, to remove them again. */
  const registeredExtras = new Map<string, RegisteredTool[]>();
  const registerExtra = (server: McpServer, name: string) => {
    const tool = server.registerTool(name, { description: `Added ${name}` }, async () => ({
      content: [{ type: 'text', text: name }],
    }));
    registeredExtras.set(name, [...(registeredExtras.get(name) ?? []), tool]);
  };
  const authorizations: Array<string | undefined> = [];
  const cancelled: number[] = [];
  const resumedAfterMs: number[] = [];
  let streamClosedAt: number | undefined;
  /** With `failFirstResume`: the event ids a resumption was refused from once (503). */
  const failedResumes = new Set<string>();

  const newServer = () => {
    const server = new McpServer({ name: 'test-http-upstream', version: '1.0.0' });
    server.registerTool(
      'echo',
      { description: 'Echoes the text back', inputSchema: { text: z.string() } },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    server.registerTool(
      'add',
      { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } },
      async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }),
    );
    server.registerTool(
      'slow',
      { description: 'Waits, reporting progress', inputSchema: { ms: z.number() } },
      async ({ ms }, extra) => {
        const token = extra._meta?.progressToken;
        for (let step = 1; step <= 2; step += 1) {
          await new Promise((resolve) => setTimeout(resolve, ms / 2));
          if (extra.signal.aborted) {
            cancelled.push(ms);
            return { content: [] };
          }
          if (token !== undefined)
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress: step, total: 2 },
            });
        }
        return { content: [{ type: 'text', text: `waited ${ms}` }] };
      },
    );
    server.registerTool(
      'ask',
      { description: 'Asks the client to sample a message', inputSchema: { prompt: z.string(), ms: z.number() } },
      async ({ prompt, ms }, extra) => {
        const answer = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 10 },
          },
          CreateMessageResultSchema,
          { timeout: ms },
        );
        return { content: [answer.content].flat() };
      },
    );
    if (options.resumable)
      server.registerTool(
        'poll',
        { description: 'Closes its stream, then answers after ms', inputSchema: { ms: z.number() } },
        async ({ ms }, extra) => {
          const progress = async (step: number) => {
            const token = extra._meta?.progressToken;
            if (token !== undefined)
              await extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress: step },
              });
          };
          await progress(1);
          streamClosedAt = performance.now();
          extra.closeSSEStream?.();
          await new Promise((resolve) => setTimeout(resolve, ms));
          await progress(2);
          // The SDK's example event store replays in the order of its event ids, which hold the
          // millisecond and then a random suffix: a millisecond apart, the progress comes first.
          await new Promise((resolve) => setTimeout(resolve, 2));
          return { content: [{ type: 'text', text: `polled ${ms}` }] };
        },
      );
    for (const name of extraTools) registerExtra(server, name);
    return server;
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? JSON.parse(text) : undefined;
  };

  const http: Server = createServer((req, res) => {
    void (async () => {
      authorizations.push(req.headers.authorization);
      if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
        res.writeHead(401).end();
        return;
      }
      const lastEventId = req.method === 'GET' ? req.headers['last-event-id'] : undefined;
      if (typeof lastEventId === 'string' && streamClosedAt !== undefined)
        resumedAfterMs.push(performance.now() - streamClosedAt);
      if (typeof lastEventId === 'string' && options.resumable?.failFirstResume && !failedResumes.has(lastEventId)) {
        failedResumes.add(lastEventId);
        res.writeHead(503).end();
        return;
      }
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let session = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (!session) {
        const server = newServer();
        const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          enableJsonResponse: options.json ?? false,
          ...(options.resumable && {
            eventStore: new InMemoryEventStore(),
            retryInterval: options.resumable.retryMs,
          }),
          onsessioninitialized: (id) => void sessions.set(id, { transport, server }),
        });
        transport.onclose = () => {
          if (transport.sessionId) sessions.delete(transport.sessionId);
        };
        await server.connect(transport);
        session = { transport, server };
      }
      await session.transport.handleRequest(req, res, body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    authorizations,
    cancelled,
    resumedAfterMs,
    addTool(name) {
      extraTools.push(name);
      for (const { server } of sessions.values()) registerExtra(server, name);
    },
    removeTool(name) {
      extraTools.splice(extraTools.indexOf(name), 1);
      for (const tool of registeredExtras.get(name) ?? []) tool.remove();
      registeredExtras.delete(name);
    },
    async close() {
      await Promise.all([...sessions.values()].map(({ server }) => server.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
