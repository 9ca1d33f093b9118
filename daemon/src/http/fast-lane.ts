import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routes } from '@gatehouse/shared';
import type { RequestLine } from '../logging.js';
import { plainAgent } from './authenticate.js';
import { JSON_CONTENT_TYPE } from './route-binding.js';
import type { addressCheck } from './host-guard.js';
import { agentWhoami } from './routes/system.routes.js';
import type { Services } from './services.js';

/** Headers on every answer of the daemon's; API answers also say `Cache-Control: no-store`. */
export const EVERY_ANSWER_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' } as const;

export interface FastLaneOptions {
  services: Services;
  addressed: ReturnType<typeof addressCheck>;
  /** True once shutdown starts: Fastify then answers, and ends the connection. */
  closing: () => boolean;
  logRequest: (line: RequestLine) => void;
}

export type FastLane = (request: IncomingMessage, response: ServerResponse) => Promise<boolean> | false;

/**
 * `GET /v1/whoami` from an agent whose credential is good: the request every agent makes on each
 * call, answered from node:http's request event without going through Fastify, whose routing,
 * hooks and reply cost more than the answer itself (bench B1, B2). Anything out of the ordinary
 * — another method, path or query, a body, an Origin, a Host the guard would refuse, a missing or
 * refused credential, a human, the daemon closing — is not taken, or given back before anything
 * is written (`false`), and Fastify answers it as it answers every route (a refusal is recorded
 * there, once). What the lane sends is the route's own: the same kept answer (`agentWhoami`), the
 * same headers and request line; fast-lane.test.ts holds the two to the same bytes.
 */
export function fastLane({ services, addressed, closing, logRequest }: FastLaneOptions): FastLane {
  const path = routes.whoami.path;
  return (request, response) => {
    const { headers } = request;
    if (request.method !== 'GET' || request.url !== path || closing()) return false;
    if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) return false;
    // A browser's request (it names its origin) needs Fastify's CORS headers.
    if (headers.origin !== undefined || addressed(headers) !== null) return false;
    return answerWhoami(request, response);
  };

  async function answerWhoami(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const started = performance.now();
    let answer: Buffer;
    try {
      const auth = await plainAgent(services, request.headers, request.socket.remoteAddress ?? '');
      if (!auth) return false;
      answer = (await agentWhoami(services, auth)).bytes;
    } catch {
      return false; // Fastify's to answer, and to log as every unexpected failure
    }
    const reqId = randomUUID();
    response.writeHead(200, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': answer.length,
      'x-request-id': reqId,
      ...EVERY_ANSWER_HEADERS,
      'cache-control': 'no-store',
    });
    response.end(answer);
    logRequest({ reqId, method: 'GET', url: path, status: 200, ms: Math.round(performance.now() - started) });
    return true;
  }
}
