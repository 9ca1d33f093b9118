import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { problemStatus, type OtasFailure, type ProblemCode, type RouteDescriptor } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';
import { holdConnection } from './hold-connection.js';

type OtasOptions = NonNullable<RouteDescriptor['otas']>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on OTAS-compatible routes: every refusal of theirs, hooks' too, is in OTAS's envelope. */
    otas?: OtasOptions;
  }
}

export function sendOtasFailure(
  reply: FastifyReply,
  status: number,
  description: string,
  headers: Record<string, string> = {},
) {
  const body: OtasFailure = { status: 0, status_description: description };
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.status(status).send(body);
}

/** A refusal OTAS words its own way on one route (its description is not the code's usual one). */
export class OtasRefusal extends ProblemError {
  constructor(
    code: ProblemCode,
    readonly description: string,
    detail: string,
  ) {
    super(code, detail);
  }
}

/** OTAS's own description for each problem code; codes it has no word for keep their own. */
export function otasDescription(code: ProblemCode, options: OtasOptions): string {
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
    case 'not_found':
      return options.notFound ?? code;
    default:
      return code;
  }
}

/** Errors of an OTAS-compatible route, in OTAS's envelope. Internals stay in the log, as everywhere. */
export function otasErrorHandler(options: OtasOptions) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof OtasRefusal) return sendOtasFailure(reply, error.status, error.description);
    if (error instanceof ProblemError) {
      if (error.extras.holdConnectionMs) holdConnection(reply, error.extras.holdConnectionMs);
      return sendOtasFailure(reply, error.status, otasDescription(error.code, options), error.extras.headers);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return sendOtasFailure(reply, problemStatus.payload_too_large, options.invalid);
    if (error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP_'))
      return sendOtasFailure(reply, 400, options.malformed ?? options.invalid);
    if (error.validation) return sendOtasFailure(reply, 400, options.invalid);
    request.log.error({ err: error }, 'unhandled error');
    return sendOtasFailure(reply, 500, 'internal_error');
  };
}

/** OTAS answers 400 `missing_headers` before looking at credentials. */
export function requireHeaders(names: string[], missing = 'missing_headers') {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (names.some((name) => typeof request.headers[name] !== 'string' || request.headers[name] === '')) {
      return sendOtasFailure(reply, 400, missing);
    }
  };
}
