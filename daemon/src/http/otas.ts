import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problemStatus, type OtasFailure, type ProblemCode, type RouteDescriptor } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';
import { holdConnection } from './problems.js';

type OtasOptions = NonNullable<RouteDescriptor['otas']>;

function send(reply: FastifyReply, status: number, description: string, headers: Record<string, string> = {}) {
  const body: OtasFailure = { status: 0, status_description: description };
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.status(status).send(body);
}

/** OTAS's own description for each problem code; codes it has no word for keep their own. */
function describe(code: ProblemCode, options: OtasOptions): string {
  switch (code) {
    case 'unauthorized':
    case 'mfa_required':
      return code === 'mfa_required' ? 'mfa_required' : options.unauthorized;
    case 'validation_failed':
    case 'bad_request':
    case 'unsupported_media_type':
      return options.invalid;
    case 'conflict':
      return 'already_exists';
    default:
      return code;
  }
}

/** Errors of an OTAS-compatible route, in OTAS's envelope. Internals stay in the log, as everywhere. */
export function otasErrorHandler(options: OtasOptions) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ProblemError) {
      if (error.extras.holdConnectionMs) holdConnection(reply, error.extras.holdConnectionMs);
      return send(reply, error.status, describe(error.code, options), error.extras.headers);
    }
    if (error.validation || error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP_')) {
      const status = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? problemStatus.payload_too_large : 400;
      return send(reply, status, options.invalid);
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, 500, 'internal_error');
  };
}

/** OTAS answers 400 `missing_headers` before looking at credentials. */
export function requireHeaders(names: string[]) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (names.some((name) => typeof request.headers[name] !== 'string' || request.headers[name] === '')) {
      return send(reply, 400, 'missing_headers');
    }
  };
}
