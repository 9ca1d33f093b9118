import { isSafeName } from '@gatehouse/shared';
import { ProblemError } from '../errors.js';

/**
 * A name as stored and looked up: refused if it holds a character names may not hold (the
 * contract refuses them first; this keeps every caller of the domain to the same rule), then
 * NFC-normalised and trimmed, so two spellings of one name are one name.
 */
export function storedName(raw: string, location = 'body.name'): string {
  if (!isSafeName(raw)) {
    throw new ProblemError(
      'invalid_name',
      'A name may not hold control characters (including NUL and newlines), zero-width characters or bidirectional overrides; remove them and try again.',
      { errors: [{ location, message: 'holds a character names may not hold' }] },
    );
  }
  return raw.normalize('NFC').trim();
}
