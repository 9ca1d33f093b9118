import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC's code for a server error the relay reports in place of the gateway's answer. */
const RELAY_FAILED = -32000;
/** How long the relay waits for the client's answer to its ping before it writes the answer anyway. */
const PING_TIMEOUT_MS = 1_000;
/** The ids of the relay's own pings, which cannot be the id of a request the gateway relays. */
const PING_ID_PREFIX = 'gatehouse-mcp-ping-';

const isAnswer = (message: JSONRPCMessage) => isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);

/**
 * Relays MCP between a client on stdin/stdout and the gateway at `url`, message for message:
 * requests, answers, notifications, progress and cancellation go through untouched, so the client
 * talks to the gateway as if it were a stdio server. The agent's key is sent as the Bearer
 * credential on each request; it never appears on stdout. Resolves when either side closes.
 */
export async function relayStdioToGateway(url: URL, agentKey: string): Promise<void> {
  const local = new StdioServerTransport();
  const gateway = new StreamableHTTPClientTransport(url, {
    requestInit: { headers: { authorization: `Bearer ${agentKey}` } },
  });
  let closed = false;
  const done = new Promise<void>((resolve) => {
    const close = () => {
      if (closed) return;
      closed = true;
      void Promise.all([
        local.close(),
        gateway
          .terminateSession()
          .catch(() => undefined)
          .then(() => gateway.close()),
      ])
        .catch(() => undefined)
        .then(() => resolve());
    };
    local.onclose = close;
    gateway.onclose = close;
    // A stdio client ends the session by closing our stdin (the SDK's transport does not watch for it).
    process.stdin.once('end', close);
  });

  // A client on the SDK handles a notification one microtask after reading it but an answer at
  // once, and stops listening for a request's progress when its answer comes: when the last
  // progress and the answer arrive in one read of the pipe, the progress is dropped
  // (modelcontextprotocol/typescript-sdk#2580). The gateway sends them back to back, so after
  // progress the relay pings the client and writes the answer once the client has answered the
  // ping, and so has handled everything written before it.
  let progressSinceAnswer = false;
  let pings = 0;
  const awaitingPong = new Map<string, () => void>();
  const ping = () =>
    new Promise<void>((resolve) => {
      const id = `${PING_ID_PREFIX}${++pings}`;
      const answered = () => {
        clearTimeout(timer);
        awaitingPong.delete(id);
        resolve();
      };
      const timer = setTimeout(answered, PING_TIMEOUT_MS);
      awaitingPong.set(id, answered);
      local.send({ jsonrpc: '2.0', id, method: 'ping' }).catch(answered);
    });
  const toClient = async (message: JSONRPCMessage) => {
    const answer = isAnswer(message);
    if (answer && progressSinceAnswer) await ping();
    progressSinceAnswer = answer ? false : progressSinceAnswer || message.method === 'notifications/progress';
    await local.send(message);
  };
  // One at a time, in the order the gateway sent them.
  let delivered: Promise<void> = Promise.resolve();
  gateway.onmessage = (message: JSONRPCMessage) => {
    delivered = delivered.then(() => toClient(message)).catch(() => undefined);
  };
  local.onmessage = (message: JSONRPCMessage) => {
    const pong = isAnswer(message) ? awaitingPong.get(String(message.id)) : undefined;
    if (pong) return pong();
    gateway.send(message).catch((error: Error) => {
      // A request the gateway did not take (refused credential, daemon down) still gets its answer.
      if (isJSONRPCRequest(message))
        void local.send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: RELAY_FAILED, message: `Gatehouse gateway: ${error.message}` },
        });
      else process.stderr.write(`gatehouse mcp: ${error.message}\n`);
    });
  };
  gateway.onerror = (error: Error) => process.stderr.write(`gatehouse mcp: ${error.message}\n`);
  local.onerror = (error: Error) => process.stderr.write(`gatehouse mcp: ${error.message}\n`);

  await gateway.start();
  await local.start();
  return done;
}
