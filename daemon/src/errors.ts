import { problemStatus, type FieldError, type ProblemCode } from '@gatehouse/shared';

export interface ProblemExtras {
  errors?: FieldError[];
  headers?: Record<string, string>;
  /**
   * The caller's next request on this connection is read only after this long: a flood waits
   * with its connections idle, while the refused request itself ends at once.
   */
  holdConnectionMs?: number;
}

/**
 * A failure with a stable problem code. Domain code throws these; the HTTP error handler turns
 * them into RFC 7807 documents. `detail` is shown to the caller, so it must never hold a secret
 * or an internal detail (file paths, SQL, stack traces).
 */
export class ProblemError extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.status = problemStatus[code];
  }
}

export const notFound = (what: string) => new ProblemError('not_found', `${what} not found`);
export const forbidden = (why: string) => new ProblemError('forbidden', why);
export const conflict = (why: string) => new ProblemError('conflict', why);

/** The daemon cannot start; `message` is the one line the operator sees, with the way out. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
