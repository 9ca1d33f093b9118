import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  NAME_FORMAT,
  problemStatus,
  problemTitle,
  problemType,
  type FieldError,
  type Problem,
  type ProblemCode,
} from '@gatehouse/shared';
import { ProblemError } from '../errors.js';

export function sendProblem(
  reply: FastifyReply,
  code: ProblemCode,
  detail: string,
  extras: { errors?: FieldError[]; headers?: Record<string, string> } = {},
) {
  const problem: Problem = {
    type: problemType(code),
    title: problemTitle[code],
    status: problemStatus[code],
    detail,
    code,
    ...(extras.errors ? { errors: extras.errors } : {}),
    request_id: String(reply.request.id),
  };
  for (const [name, value] of Object.entries(extras.headers ?? {})) reply.header(name, value);
  if (problem.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="gatehouse"');
  return reply.status(problem.status).type('application/problem+json').send(problem);
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
  return sendProblem(reply, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
}
