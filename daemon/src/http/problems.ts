import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  NAME_FORMAT,
  problemStatus,
  problemTitle,
  problem,
  type FieldError,
  type Problem,
  type ProblemCode,
} from '@gatehouse/shared';
import { ProblemError, type ProblemExtras } from '../errors.js';
import { holdConnection } from './hold-connection.js';
import { otasDescription, sendOtasFailure } from './otas.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** The RFC 7807 document of a problem code, with the request's id. */
export function problemOf(
  code: ProblemCode,
  detail: string,
  extras: { errors?: FieldError[]; requestId?: string } = {},
): Problem {
  return {
    ...problem(code, detail, extras.errors),
    ...(extras.requestId ? { request_id: extras.requestId } : {}),
  };
}

export function sendProblem(reply: FastifyReply, code: ProblemCode, detail: string, extras: ProblemExtras = {}) {
  if (extras.holdConnectionMs) holdConnection(reply, extras.holdConnectionMs);
  // A refusal from a hook (Host and Origin guard, rate limit) on an OTAS route: its clients read only OTAS's envelope.
  const otas = reply.request.routeOptions.config.otas;
  if (otas) return sendOtasFailure(reply, problemStatus[code], otasDescription(code, otas), extras.headers);
  const answer = problemOf(code, detail, { ...extras, requestId: String(reply.request.id) });
  for (const [name, value] of Object.entries(extras.headers ?? {})) reply.header(name, value);
  // A challenge of the caller's own (the gateway's names its resource metadata) is kept.
  if (answer.status === 401 && !reply.hasHeader('www-authenticate')) {
    reply.header('WWW-Authenticate', 'Bearer realm="gatehouse"');
  }
  return reply.status(answer.status).type(PROBLEM_CONTENT_TYPE).send(answer);
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

const CONTEXT_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** Ajv's errors as `{location, message}`: `body.name`, `query.limit`; unknown fields named as such. */
export function fieldErrors(context: string | undefined, errors: AjvError[]): FieldError[] {
  const base = CONTEXT_NAMES[context ?? 'body'] ?? 'body';
  return errors.map((error) => {
    let location = base + error.instancePath.replace(/\//g, '.');
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') location += `.${String(error.params.missingProperty)}`;
    if (error.keyword === 'additionalProperties') {
      location += `.${String(error.params.additionalProperty)}`;
      message = 'is not a known field';
    }
    return { location, message };
  });
}

const FASTIFY_CODES: Record<string, { code: ProblemCode; detail: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', detail: 'The request body is larger than 1 MiB.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    detail: 'Send JSON (Content-Type: application/json).',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request', detail: 'The Content-Length does not match the body.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'bad_request', detail: 'The body is empty but Content-Type says JSON.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'bad_request', detail: 'The body is not valid JSON.' },
};

/**
 * The one place errors become HTTP problems. Domain errors carry their code; Fastify's
 * parsing and validation errors are mapped; anything else is a 500 that names only the
 * request id (the details go to the log, never to the caller).
 */
export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ProblemError) return sendProblem(reply, error.code, error.detail, error.extras);
  if (error.validation) {
    const errors = fieldErrors(error.validationContext, error.validation as AjvError[]);
    const badNames = (error.validation as AjvError[]).filter(
      (e) => e.keyword === 'format' && e.params.format === NAME_FORMAT,
    );
    if (badNames.length > 0) {
      const names = fieldErrors(error.validationContext, badNames).map((e) => e.location);
      return sendProblem(
        reply,
        'invalid_name',
        `${names.join(', ')}: a name may not hold control characters (including NUL and newlines), zero-width characters or bidirectional overrides; remove them and try again.`,
        { errors: names.map((location) => ({ location, message: 'holds a character names may not hold' })) },
      );
    }
    const summary = errors.map((e) => `${e.location} ${e.message}`).join('; ');
    return sendProblem(reply, 'validation_failed', `The request is not valid: ${summary}.`, { errors });
  }
  const known = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (known) return sendProblem(reply, known.code, known.detail);
  if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
    return sendProblem(reply, 'bad_request', 'The body is not valid JSON.');
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    const code =
      (Object.keys(problemStatus) as ProblemCode[]).find((c) => problemStatus[c] === error.statusCode) ?? 'bad_request';
    return sendProblem(reply, code, problemTitle[code]);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(
    reply,
    'internal',
    `An internal error occurred; the daemon log has the details (request ${request.id}).`,
  );
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0]!;
  // The router refuses a parameter over its length limit (`frameworkErrors`) only when no other
  // route matches; the console's `/*` catches such paths otherwise, and ends here.
  const { maxParamLength } = request.server.initialConfig;
  if (maxParamLength !== undefined && path.split('/').some((segment) => segment.length > maxParamLength))
    return tooLong(reply);
  return sendProblem(reply, 'not_found', `No route ${request.method} ${path}.`);
}

const tooLong = (reply: FastifyReply) =>
  sendProblem(reply, 'uri_too_long', 'A path parameter is longer than the daemon reads.');

/**
 * Requests Fastify refuses before routing (`frameworkErrors`). The path is never echoed: it is
 * whatever the caller sent, markup included.
 */
export function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return tooLong(reply);
  if (error.code === 'FST_ERR_BAD_URL')
    return sendProblem(reply, 'bad_request', 'The path is not valid percent-encoding.');
  return sendProblem(reply, 'bad_request', problemTitle.bad_request);
}

const CLIENT_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: { code: 'headers_too_large', detail: 'The request headers are larger than 16 KiB.' },
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'request_timeout', detail: 'The request did not arrive in time.' },
};

/**
 * Requests Node's HTTP parser cannot read (oversized headers, malformed request lines, timeouts),
 * answered on the socket since no request object exists, and the connection ended.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, detail } = CLIENT_ERRORS[error.code ?? ''] ?? {
    code: 'bad_request' as const,
    detail: 'The request is not valid HTTP.',
  };
  const body = JSON.stringify(problemOf(code, detail));
  const status = problemStatus[code];
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
