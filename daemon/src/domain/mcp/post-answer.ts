import type { ServerResponse } from 'node:http';
import { DEFAULT_SSE_KEEP_ALIVE_MS } from '@modelcontextprotocol/sdk/server/sseKeepAlive.js';
import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCResultResponse } from '@modelcontextprotocol/sdk/types.js';

/** The headers of an event stream, as the SDK's Streamable HTTP transport sends them. */
const STREAM_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/**
 * The HTTP answer to a POST holding one JSON-RPC request, as Streamable HTTP allows it: the
 * response alone as JSON, or, once anything must go out before it (progress, a request of the
 * upstream's, or a keep-alive while the call waits), an event stream that ends with the response.
 */
export class PostAnswer {
  private streaming = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly response: ServerResponse,
    private readonly sessionId: string,
  ) {
    // A proxy or client that hears nothing for long gives up on the request: as the SDK does.
    this.keepAlive = setInterval(() => this.write(': keepalive\n\n'), DEFAULT_SSE_KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  /** A message related to the request, before its response. */
  send(message: JSONRPCMessage): void {
    this.write(event(message));
  }

  /** The response to the request: the answer is over. */
  end(message: JSONRPCResultResponse | JSONRPCErrorResponse): void {
    clearInterval(this.keepAlive);
    if (this.over) return;
    if (this.streaming) this.response.end(event(message));
    else {
      // With its length, the answer goes out as one plain body, not chunked.
      const body = JSON.stringify(message);
      this.response
        .writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'mcp-session-id': this.sessionId,
        })
        .end(body);
    }
  }

  /** The request was cancelled: no response follows (the client has forgotten the request). */
  cancel(): void {
    clearInterval(this.keepAlive);
    if (this.over) return;
    if (!this.streaming) this.response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': this.sessionId });
    this.response.end();
  }

  /** Ended, or cut by the client. */
  private get over(): boolean {
    return this.response.writableEnded || this.response.destroyed;
  }

  private write(text: string): void {
    if (this.over) return;
    if (!this.streaming) {
      this.streaming = true;
      this.response.writeHead(200, { ...STREAM_HEADERS, 'mcp-session-id': this.sessionId });
    }
    this.response.write(text);
  }
}

const event = (message: JSONRPCMessage) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;
