import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/** A 1×1 PNG and a few bytes of WAV: content of the kinds the conformance scenarios ask for. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const WAV = Buffer.from(
  'RIFF$\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0D\xac\0\0\x88X\x01\0\x02\0\x10\0data\0\0\0\0',
  'latin1',
).toString('base64');

/**
 * A Streamable HTTP MCP server built with the official SDK, offering what the MCP conformance
 * suite's server scenarios call by name (`test_simple_text`, `test://static-text`,
 * `test_simple_prompt`, …): the upstream that `mcp-conformance.test.ts` runs the suite against,
 * directly and through the gateway.
 */
export async function startConformanceUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  const newServer = () => {
    const server = new McpServer(
      { name: 'conformance-upstream', version: '1.0.0' },
      { capabilities: { logging: {}, resources: { subscribe: true } } },
    );
    const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });
    server.registerTool('test_simple_text', { description: 'Simple text' }, async () =>
      text('This is a simple text response for testing.'),
    );
    server.registerTool('test_image_content', { description: 'An image' }, async () => ({
      content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
    }));
    server.registerTool('test_audio_content', { description: 'Audio' }, async () => ({
      content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
    }));
    server.registerTool('test_embedded_resource', { description: 'An embedded resource' }, async () => ({
      content: [
        {
          type: 'resource',
          resource: {
            uri: 'test://embedded-resource',
            mimeType: 'text/plain',
            text: 'This is an embedded resource content.',
          },
        },
      ],
    }));
    server.registerTool('test_multiple_content_types', { description: 'Mixed content' }, async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data"}' },
        },
      ],
    }));
    server.registerTool('test_tool_with_logging', { description: 'Logs while it runs' }, async (extra) => {
      for (const data of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return text('Tool with logging executed successfully');
    });
    server.registerTool('test_tool_with_progress', { description: 'Reports progress' }, async (extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progressToken !== undefined)
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed step ${progress / 50 + 1} of 3` },
          });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return text(String(progressToken));
    });
    server.registerTool('test_error_handling', { description: 'Always fails' }, async () => ({
      isError: true,
      content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
    }));
    server.registerTool(
      'test_sampling',
      { description: 'Asks the client to sample', inputSchema: { prompt: z.string() } },
      async ({ prompt }, extra) => {
        const answer = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
          },
          CreateMessageResultSchema,
        );
        const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
        return text(`LLM response: ${content?.type === 'text' ? content.text : ''}`);
      },
    );
    server.registerTool(
      'test_elicitation',
      { description: 'Asks the user', inputSchema: { message: z.string() } },
      async ({ message }, extra) => {
        const answer = await extra.sendRequest(
          {
            method: 'elicitation/create',
            params: {
              message,
              requestedSchema: {
                type: 'object',
                properties: { username: { type: 'string' }, email: { type: 'string' } },
                required: ['username', 'email'],
              },
            },
          },
          ElicitResultSchema,
        );
        return text(`User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
      },
    );

    server.registerResource('static-text', 'test://static-text', { mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    }));
    server.registerResource('static-binary', 'test://static-binary', { mimeType: 'image/png' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG }],
    }));
    server.registerResource('watched-resource', 'test://watched-resource', { mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }],
    }));
    server.registerResource(
      'template',
      new ResourceTemplate('test://template/{id}/data', { list: undefined }),
      { mimeType: 'application/json' },
      async (uri, { id }) => ({
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true }) }],
      }),
    );
    server.server.setRequestHandler(SubscribeRequestSchema, async () => ({}));
    server.server.setRequestHandler(UnsubscribeRequestSchema, async () => ({}));

    server.registerPrompt('test_simple_prompt', { description: 'A simple prompt' }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }));
    server.registerPrompt(
      'test_prompt_with_arguments',
      { description: 'A prompt with arguments', argsSchema: { arg1: z.string(), arg2: z.string() } },
      ({ arg1, arg2 }) => ({
        messages: [
          { role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } },
        ],
      }),
    );
    server.registerPrompt(
      'test_prompt_with_embedded_resource',
      { description: 'A prompt with a resource', argsSchema: { resourceUri: z.string() } },
      ({ resourceUri }) => ({
        messages: [
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
            },
          },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      }),
    );
    server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image' }, () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }));
    return server;
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    return body ? JSON.parse(body) : undefined;
  };

  const http = createServer((req, res) => {
    void (async () => {
      const body = req.method === 'POST' ? await readBody(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (!transport) {
        const opened: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (id) => void sessions.set(id, opened),
        });
        opened.onclose = () => {
          if (opened.sessionId) sessions.delete(opened.sessionId);
        };
        await newServer().connect(opened);
        transport = opened;
      }
      await transport.handleRequest(req, res, body);
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      await Promise.all([...sessions.values()].map((transport) => transport.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
