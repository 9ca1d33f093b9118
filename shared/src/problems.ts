import { Type, type Static } from 'typebox';

/**
 * Every stable problem `code` the API can answer with, and the HTTP status it travels with.
 * Clients branch on `code`, never on `title` or `detail`.
 */
export const problemStatus = {
  /** The request could not be read (malformed JSON, wrong content type usage). */
  bad_request: 400,
  /** The request was read but fails the route's schema; `errors` says where. */
  validation_failed: 400,
  /** A name (agent, project, workflow, user, tool, role) holds a control, zero-width or bidirectional-override character. */
  invalid_name: 400,
  /** A list's `cursor` is not one the daemon gave out (or is sent with an `offset`). */
  invalid_cursor: 400,
  /** A grant of a connection names a method or path pattern its connection does not allow: a grant only narrows. */
  grant_wider_than_connection: 400,
  /** No credentials, or credentials that are not (or no longer) valid. */
  unauthorized: 401,
  /** The password was right but the account has MFA on and no `totp_code` was sent. */
  mfa_required: 401,
  /** Authenticated, but not allowed to do this. */
  forbidden: 403,
  /** `POST /auth/setup` after the first admin exists. */
  setup_already_done: 403,
  /** The `Host` header is not this daemon (DNS rebinding guard). */
  host_not_allowed: 403,
  /** The `Origin` header is not this daemon's own. */
  origin_not_allowed: 403,
  not_found: 404,
  /** The daemon did not receive the whole request in time. */
  request_timeout: 408,
  conflict: 409,
  /** The change would leave no active super_admin. */
  last_super_admin: 409,
  /** A stored secret the request needs is gone from the keychain. */
  credentials_unrecoverable: 409,
  payload_too_large: 413,
  /** The path (or one of its parameters) is longer than the daemon reads. */
  uri_too_long: 414,
  unsupported_media_type: 415,
  /** Too many attempts; `Retry-After` says when to try again. */
  rate_limited: 429,
  /** The request's headers are larger than the daemon reads. */
  headers_too_large: 431,
  /** A usage limit the admin set is reached (or has expired); `Retry-After` says when, if ever, it frees. */
  limit_reached: 429,
  /** The broker: the agent holds no grant of this connection. */
  connection_not_granted: 403,
  /** The broker: the connection, or the agent's grant of it, does not allow this method or path. */
  path_not_allowed: 403,
  internal: 500,
  /** Something Gatehouse deliberately does not do (it sends no mail, so no password reset by mail). */
  not_supported: 501,
  /** The broker could not reach the connection's upstream (refused, TLS, DNS, reset). */
  upstream_unreachable: 502,
  /** The upstream did not answer in time. */
  upstream_timeout: 504,
  /** The OS keychain (or the configured secret store) cannot be reached; nothing was stored. */
  keychain_unavailable: 503,
  /** The daemon is shutting down; try again once it has restarted. */
  shutting_down: 503,
  /** The console's shell cannot reach the daemon (not started, restarting, or gone). Never sent by the daemon. */
  daemon_unavailable: 503,
} as const;

export type ProblemCode = keyof typeof problemStatus;
export const problemCodes = Object.keys(problemStatus) as ProblemCode[];

/** One field-level validation failure. `location` is like `body.name` or `query.limit`. */
export const FieldError = Type.Object({
  location: Type.String(),
  message: Type.String(),
});
export type FieldError = Static<typeof FieldError>;

/** RFC 7807 problem document (`application/problem+json`). */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'A URN naming the problem kind: urn:gatehouse:problem:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Unsafe<ProblemCode>({ type: 'string', enum: problemCodes }),
    errors: Type.Optional(Type.Array(FieldError)),
    request_id: Type.Optional(Type.String()),
  },
  { $id: 'Problem' },
);
export type Problem = Static<typeof Problem>;

/** The `type` URI of a problem code. */
export const problemType = (code: ProblemCode): string => `urn:gatehouse:problem:${code}`;

/** Human titles, one per code (the `detail` carries the specifics). */
export const problemTitle: Record<ProblemCode, string> = {
  bad_request: 'Bad request',
  validation_failed: 'Validation failed',
  invalid_name: 'Invalid name',
  invalid_cursor: 'Invalid cursor',
  unauthorized: 'Unauthorized',
  mfa_required: 'Two-factor code required',
  forbidden: 'Forbidden',
  setup_already_done: 'Setup already done',
  host_not_allowed: 'Host not allowed',
  origin_not_allowed: 'Origin not allowed',
  not_found: 'Not found',
  request_timeout: 'Request timeout',
  conflict: 'Conflict',
  last_super_admin: 'Last super admin',
  credentials_unrecoverable: 'Credentials unrecoverable',
  payload_too_large: 'Payload too large',
  uri_too_long: 'URI too long',
  unsupported_media_type: 'Unsupported media type',
  rate_limited: 'Too many requests',
  headers_too_large: 'Request headers too large',
  limit_reached: 'Usage limit reached',
  connection_not_granted: 'Connection not granted',
  path_not_allowed: 'Path not allowed',
  grant_wider_than_connection: 'Grant wider than its connection',
  internal: 'Internal error',
  not_supported: 'Not supported',
  upstream_unreachable: 'Upstream unreachable',
  upstream_timeout: 'Upstream timeout',
  keychain_unavailable: 'Keychain unavailable',
  shutting_down: 'Shutting down',
  daemon_unavailable: 'Daemon unavailable',
};

/** The one problem builder of the clients: a problem document for `code`, with its own status and title. */
export const problem = (code: ProblemCode, detail: string, errors?: FieldError[]): Problem => ({
  type: problemType(code),
  title: problemTitle[code],
  status: problemStatus[code],
  detail,
  code,
  ...(errors ? { errors } : {}),
});
