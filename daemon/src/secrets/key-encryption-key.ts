import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StartupError } from '../errors.js';

/** The key that wraps every data key of the database secret store. It lives in a file or the environment, never in the database. */
export interface KeyEncryptionKey {
  /** A fingerprint stored beside each wrapped data key: names the key without revealing it. */
  readonly id: string;
  readonly key: Buffer;
  /** Where it came from, for messages: `file /etc/gatehouse/kek` or `GATEHOUSE_KEK`. */
  readonly source: string;
}

const KEY_BYTES = 32;

/**
 * Reads a key-encryption key: 32 bytes, given as base64 (`head -c 32 /dev/urandom | base64`) or,
 * in a file, also as the 32 raw bytes. Anything else is a `StartupError` naming the source.
 */
export function readKeyEncryptionKey(from: { file: string } | { base64: string; variable: string }): KeyEncryptionKey {
  const source = 'file' in from ? `file ${from.file}` : from.variable;
  let bytes: Buffer;
  if ('file' in from) {
    let content: Buffer;
    try {
      content = readFileSync(from.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new StartupError(`Cannot read the key-encryption key file ${from.file} (${code}).`);
    }
    bytes = content.length === KEY_BYTES ? content : fromBase64(content.toString('utf8'));
  } else {
    bytes = fromBase64(from.base64);
  }
  if (bytes.length !== KEY_BYTES) {
    throw new StartupError(
      `The key-encryption key in ${source} is not 32 bytes in base64; make one with: head -c 32 /dev/urandom | base64`,
    );
  }
  const id = createHmac('sha256', bytes).update('gatehouse key-encryption key id').digest('hex').slice(0, 16);
  return { id, key: bytes, source };
}

/** Strict base64: a typo must not decode to some other 32 bytes. */
function fromBase64(text: string): Buffer {
  const trimmed = text.trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) && trimmed.length % 4 === 0
    ? Buffer.from(trimmed, 'base64')
    : Buffer.alloc(0);
}
