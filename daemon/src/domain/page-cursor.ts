import { ProblemError } from '../errors.js';

/*
 * A list's cursor: the key of the last row of a page, so the next page starts after it (keyset
 * paging). Opaque to clients — base64url of a versioned JSON object — so its content can change
 * without changing the contract; a cursor that does not decode is the client's mistake (400).
 */

const VERSION = 1;

export const pageCursor = (after: string): string =>
  Buffer.from(JSON.stringify({ v: VERSION, after })).toString('base64url');

/** The key a cursor from `pageCursor` holds; `invalid_cursor` for anything else, or with an offset. */
export function readPageCursor(cursor: string, offset: number | undefined): string {
  if (offset) throw new ProblemError('invalid_cursor', 'Send either a cursor or an offset, not both.');
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = null;
  }
  const after = (decoded as { v?: unknown; after?: unknown } | null)?.after;
  if ((decoded as { v?: unknown } | null)?.v !== VERSION || typeof after !== 'string' || after.length === 0)
    throw new ProblemError(
      'invalid_cursor',
      'The cursor is not one this list gave out; start again from the first page.',
    );
  return after;
}
