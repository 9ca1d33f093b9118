import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mediaTypeEssence } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  JSONRPCErrorResponseSchema,
  JSONRPCMessageSchema,
  JSONRPCNotificationSchema,
  JSONRPCRequestSchema,
  JSONRPCResultResponseSchema,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from 'undici';

/**
 * How a call's event stream that ended before its response is resumed, when the upstream names no
 * `retry`: the SDK transport's schedule (its defaults, given to it too, so both follow the same).
 */
const RECONNECTION = {
  initialReconnectionDelay: 1000,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 2,
};

/**
 * The daemon's client transport to a Streamable HTTP upstream: the SDK's, except for `tools/call`,
 * the request of every agent's tool call. The SDK posts each message with fetch and reads the
 * answer through web streams, which cost the daemon about three times the upstream's own CPU per
 * call (bench B9); a tools/call goes out here over a keep-alive undici pool instead, on the same
 * upstream session (the SDK transport's session id and protocol version, the same credential
 * headers), and its answer — JSON, or an event stream read with eventsource-parser — reaches the
 * SDK client exactly as the SDK transport hands it over (each message checked against the JSON-RPC
 * schema, then `onmessage`), and a call's stream that ends before its response is resumed on the
 * SDK transport's schedule. So the SDK's client still matches responses, relays progress, the
 * upstream's own requests and notifications, times out and cancels as before. The rest —
 * initialization, the standalone GET stream, notifications, redirects — is the SDK transport's.
 */
export class UpstreamHttpTransport implements Transport {
  private readonly sdk: StreamableHTTPClientTransport;
  /** undici is imported with the first tool call: a daemon whose agents call no tool never holds it. */
  private pool: Promise<Pool> | undefined;
  private closed = false;
  /** The `retry` the upstream last named on a call's event stream: how long to wait before resuming one. */
  private retryMs: number | undefined;

  constructor(
    private readonly url: URL,
    /** The upstream credential's header(s), as the SDK transport sends them on each request. */
    private readonly credentialHeaders: Record<string, string>,
  ) {
    this.sdk = new StreamableHTTPClientTransport(url, {
      requestInit: { headers: credentialHeaders },
      reconnectionOptions: RECONNECTION,
    });
  }

  // The SDK client sets its callbacks here; they are the SDK transport's, whichever of the two reads.
  get onmessage(): Transport['onmessage'] {
    return this.sdk.onmessage;
  }
  set onmessage(handler: Transport['onmessage']) {
    this.sdk.onmessage = handler;
  }
  get onerror(): Transport['onerror'] {
    return this.sdk.onerror;
  }
  set onerror(handler: Transport['onerror']) {
    this.sdk.onerror = handler;
  }
  get onclose(): Transport['onclose'] {
    return this.sdk.onclose;
  }
  set onclose(handler: Transport['onclose']) {
    this.sdk.onclose = handler;
  }
  get sessionId(): string | undefined {
    return this.sdk.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.sdk.setProtocolVersion(version);
  }

  start(): Promise<void> {
    return this.sdk.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.sdk.close();
    // Its requests still under way fail, as the SDK transport's do when it aborts them.
    await (await this.pool)?.destroy();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    // The SDK client built the message, so its keys say what it is.
    if (!('method' in message && 'id' in message) || message.method !== 'tools/call' || options?.resumptionToken)
      return this.sdk.send(message, options);
    let answered: boolean;
    try {
      answered = await this.post(message, options);
    } catch (error) {
      this.onerror?.(error as Error);
      throw error;
    }
    // A redirect: the request was not taken; the SDK transport follows it as it does any other.
    if (!answered) await this.sdk.send(message, options);
  }

  /**
   * POSTs the request as the SDK transport does; false when the answer is a redirect, left to the
   * SDK. Resolves once an event stream's headers are in (its messages follow), or with the whole
   * of any other answer.
   */
  private async post(message: JSONRPCRequest, options: TransportSendOptions | undefined): Promise<boolean> {
    const answer = await this.exchange(
      'POST',
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      message,
      options,
    );
    return answer.body === null || this.answered(answer.status, answer.contentType, answer.body);
  }

  /**
   * One request to the upstream for the call `request`, through undici's callbacks rather than its
   * `request` (no body stream is built and iterated for each call). An event stream's messages go
   * to the client as they come and it resolves once the headers are in (`body` null); any other
   * answer resolves once whole.
   */
  private async exchange(
    method: 'POST' | 'GET',
    extraHeaders: Record<string, string>,
    request: JSONRPCRequest,
    options: TransportSendOptions | undefined,
  ): Promise<{ status: number; statusText: string; contentType: string | null; body: string | null }> {
    const headers = this.headers(extraHeaders);
    const pool = await this.open();
    return new Promise((resolve, reject) => {
      let answer = { status: 0, statusText: '', contentType: null as string | null };
      let stream: CallStream | undefined;
      const chunks: Buffer[] = [];
      pool.dispatch(
        {
          method,
          path: `${this.url.pathname}${this.url.search}`,
          headers,
          body: method === 'POST' ? JSON.stringify(request) : null,
        },
        {
          onConnect: () => undefined,
          onHeaders: (status, rawHeaders, _resume, statusText) => {
            // An informational answer (103 Early Hints) is not the answer.
            if (status < 200) return true;
            answer = { status, statusText, contentType: headerOf(rawHeaders, 'content-type') };
            if (status < 300 && status !== 202 && mediaTypeEssence(answer.contentType) === 'text/event-stream') {
              stream = new CallStream(this, request, options);
              resolve({ ...answer, body: null });
            }
            return true;
          },
          onData: (chunk) => {
            if (stream) stream.feed(chunk);
            else chunks.push(chunk);
            return true;
          },
          onComplete: () =>
            stream ? stream.end() : resolve({ ...answer, body: Buffer.concat(chunks).toString('utf8') }),
          onError: (error) => (stream ? stream.end(error) : reject(error)),
        },
      );
    });
  }

  /** A whole answer other than an event stream, as the SDK transport takes it. */
  private answered(status: number, contentType: string | null, body: string): boolean {
    if (status >= 300 && status < 400) return false;
    if (status < 200 || status >= 300) throw new StreamableHTTPError(status, `Error POSTing to endpoint: ${body}`);
    if (status === 202) return true;
    if (mediaTypeEssence(contentType) !== 'application/json')
      throw new StreamableHTTPError(-1, `Unexpected content type: ${contentType}`);
    const data: unknown = JSON.parse(body);
    for (const parsed of (Array.isArray(data) ? data : [data]).map(parseMessage)) this.onmessage?.(parsed);
    return true;
  }

  /**
   * A call's event stream ended before its response, its last event `lastEventId`: the rest is
   * asked for (GET with `Last-Event-ID`) once the upstream's `retry` has passed, or the SDK's
   * back-off step, and asked again on the same schedule while that fails, up to the SDK's number
   * of retries: an upstream that closes a call's stream to be polled (SEP-1699) is not asked again
   * at once, and one that fails a resumption is given the SDK transport's second chance.
   */
  async resumeCall(
    request: JSONRPCRequest,
    options: TransportSendOptions | undefined,
    lastEventId: string,
    attempt = 0,
  ): Promise<void> {
    if (attempt >= RECONNECTION.maxRetries) {
      this.onerror?.(new Error(`Maximum reconnection attempts (${RECONNECTION.maxRetries}) exceeded.`));
      return;
    }
    const { initialReconnectionDelay, reconnectionDelayGrowFactor, maxReconnectionDelay } = RECONNECTION;
    const delay =
      this.retryMs ?? Math.min(initialReconnectionDelay * reconnectionDelayGrowFactor ** attempt, maxReconnectionDelay);
    await sleep(delay, undefined, { ref: false });
    if (this.closed) return;
    try {
      const taken = await this.openStream(request, options, lastEventId);
      // A redirect: the SDK transport follows it, as it does any other.
      if (!taken) await this.sdk.send(request, { ...options, resumptionToken: lastEventId });
    } catch (error) {
      this.onerror?.(new Error(`Failed to reconnect SSE stream: ${(error as Error).message}`));
      await this.resumeCall(request, options, lastEventId, attempt + 1);
    }
  }

  /**
   * GETs the call's event stream from after `lastEventId` and reads it as the POST's; false when
   * the answer is a redirect. An upstream that serves no event stream on GET (405) has nothing to
   * resume, as the SDK transport takes it.
   */
  private async openStream(
    request: JSONRPCRequest,
    options: TransportSendOptions | undefined,
    lastEventId: string,
  ): Promise<boolean> {
    const { status, statusText } = await this.exchange(
      'GET',
      { accept: 'text/event-stream', 'last-event-id': lastEventId },
      request,
      options,
    );
    if (status < 300 || status === 405) return true;
    if (status < 400) return false;
    throw new StreamableHTTPError(status, `Failed to open SSE stream: ${statusText}`);
  }

  /** The headers of every request to the upstream, as the SDK transport sends them, with `extra`. */
  private headers(extra: Record<string, string>): Record<string, string> {
    const headers = { ...extra };
    if (this.sdk.sessionId) headers['mcp-session-id'] = this.sdk.sessionId;
    if (this.sdk.protocolVersion) headers['mcp-protocol-version'] = this.sdk.protocolVersion;
    for (const [name, value] of Object.entries(this.credentialHeaders)) headers[name.toLowerCase()] = value;
    return headers;
  }

  private open(): Promise<Pool> {
    if (this.closed) return Promise.reject(new Error('the connection to the upstream is closed'));
    return (this.pool ??= import('undici').then(({ Pool }) => new Pool(this.url.origin)));
  }

  /** The upstream named how long to wait before resuming a stream. */
  retryAfter(ms: number): void {
    this.retryMs = ms;
  }
}

/**
 * One tool call's event stream, read with eventsource-parser: each message reaches the client in
 * order, one microtask apart, as the SDK transport's stream reader hands them over. The SDK client
 * handles a notification a microtask after it arrives and drops the request's progress handler as
 * soon as its response arrives, so this keeps progress before the result.
 */
class CallStream {
  private readonly decoder = new TextDecoder();
  private readonly parser = createParser({
    onEvent: (event) => (this.delivered = this.delivered.then(() => this.deliver(event))),
    onRetry: (ms) => this.transport.retryAfter(ms),
  });
  private delivered: Promise<void> = Promise.resolve();
  private lastEventId: string | undefined;
  private responded = false;

  constructor(
    private readonly transport: UpstreamHttpTransport,
    private readonly request: JSONRPCRequest,
    private readonly options: TransportSendOptions | undefined,
  ) {}

  feed(chunk: Buffer): void {
    this.parser.feed(this.decoder.decode(chunk, { stream: true }));
  }

  end(error?: Error): void {
    this.delivered = this.delivered.then(() => {
      if (error) this.transport.onerror?.(new Error(`SSE stream disconnected: ${String(error)}`));
      if (this.lastEventId !== undefined && !this.responded)
        void this.transport.resumeCall(this.request, this.options, this.lastEventId);
    });
  }

  private deliver(event: EventSourceMessage): void {
    if (event.id) {
      this.lastEventId = event.id;
      this.options?.onresumptiontoken?.(event.id);
    }
    if (!event.data || (event.event && event.event !== 'message')) return;
    try {
      const message = parseMessage(JSON.parse(event.data));
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) this.responded = true;
      this.transport.onmessage?.(message);
    } catch (error) {
      this.transport.onerror?.(error as Error);
    }
  }
}

/** A header of undici's raw list (names and values in turn), by its lower-case name. */
function headerOf(rawHeaders: Buffer[], name: string): string | null {
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i]!.toString('latin1').toLowerCase() === name) return rawHeaders[i + 1]!.toString('latin1');
  return null;
}

/**
 * `JSONRPCMessageSchema.parse`, as the SDK transport checks each message, at a fraction of its
 * cost: the schema is a union of four strict objects whose keys tell them apart (`result`,
 * `error`, `method` with or without `id`), and the union tries them in turn, building the failed
 * members' issues first — about 20 µs of the daemon's CPU for each answer of a tool call. The one
 * member the keys name decides; a message it refuses is parsed by the union, which throws the
 * SDK's own error.
 */
export function parseMessage(value: unknown): JSONRPCMessage {
  const member = typeof value === 'object' && value !== null ? memberSchema(value) : undefined;
  const parsed = member?.safeParse(value);
  return parsed?.success ? parsed.data : JSONRPCMessageSchema.parse(value);
}

function memberSchema(value: object) {
  if ('result' in value) return JSONRPCResultResponseSchema;
  if ('error' in value) return JSONRPCErrorResponseSchema;
  if ('method' in value) return 'id' in value ? JSONRPCRequestSchema : JSONRPCNotificationSchema;
  return undefined;
}
