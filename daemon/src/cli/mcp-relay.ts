import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isJSONRPCRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** JSON-RPC's code for a server error the relay reports in place of the gateway's answer. */
const RELAY_FAILED = -32000;

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

  local.onmessage = (message: JSONRPCMessage) => {
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
  gateway.onmessage = (message: JSONRPCMessage) => void local.send(message).catch(() => undefined);
  gateway.onerror = (error: Error) => process.stderr.write(`gatehouse mcp: ${error.message}\n`);
  local.onerror = (error: Error) => process.stderr.write(`gatehouse mcp: ${error.message}\n`);

  await gateway.start();
  await local.start();
  return done;
}
