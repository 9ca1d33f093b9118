import type { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { CancelledNotificationSchema, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/*
 * The SDK drops a `notifications/cancelled` for request id 0, a valid JSON-RPC id and the first one
 * every SDK peer sends (typescript-sdk#2283, open in 1.32.2). Relayed through the gateway, an
 * upstream's first sampling, elicitation or roots request is id 0 to the daemon's client, and the
 * gateway's first request to an agent is id 0 to the agent's client: a cancellation of either would
 * be lost. Both ends are mended here, through the SDK's internals, until the SDK is fixed.
 */

interface ProtocolInternals {
  _requestHandlerAbortControllers: Map<RequestId, AbortController>;
  _requestMessageId: number;
}

// Protocol's own type parameters are constrained; `any` accepts both a Client and a Server.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyProtocol = Protocol<any, any, any>;

/**
 * Cancels the handler of any request id, 0 included, as the SDK does for the others; `also` is
 * told of each cancellation, for requests handled outside the SDK.
 */
export function honourCancellationOfRequestZero(
  peer: AnyProtocol,
  also: (id: RequestId, reason: unknown) => void = () => undefined,
): void {
  const { _requestHandlerAbortControllers: handlers } = peer as unknown as ProtocolInternals;
  peer.setNotificationHandler(CancelledNotificationSchema, (notification) => {
    const id = notification.params.requestId;
    if (id === undefined) return;
    handlers.get(id)?.abort(notification.params.reason);
    also(id, notification.params.reason);
  });
}

/** Numbers the requests `peer` sends from 1, so that a peer with the SDK's bug can cancel every one. */
export function numberRequestsFromOne(peer: AnyProtocol): void {
  (peer as unknown as ProtocolInternals)._requestMessageId = 1;
}
