/**
 * The shape of Gatehouse's opaque credentials: `<kind>_<prefix>_<body>` where `prefix` is
 * 8 base62 characters (the lookup key) and `body` is 32 random base62 characters followed by
 * 6 base62 characters of CRC32 over everything before them. The checksum lets scanners and
 * the CLI reject a mistyped credential without asking the daemon.
 */
export const credentialKinds = {
  /** An agent API key. */
  agent: 'agent',
  /** A human's personal API token. */
  personal: 'ghp',
  /** A session refresh token. */
  refresh: 'ghr',
  /** A project's backend SDK key, spelt as OTAS spells its own. */
  sdk: 'otas',
} as const;

export type CredentialKind = keyof typeof credentialKinds;

export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const PREFIX_LENGTH = 8;
export const RANDOM_LENGTH = 32;
export const CHECKSUM_LENGTH = 6;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC32 (IEEE) of an ASCII string. */
export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < text.length; i++) crc = CRC_TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Fixed-width base62 of a 32-bit number (6 chars hold 62^6 > 2^32). */
export function checksumOf(text: string): string {
  let n = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export interface ParsedCredential {
  kind: CredentialKind;
  prefix: string;
}

const SHAPE = new RegExp(
  `^([a-z]+)_([0-9A-Za-z]{${PREFIX_LENGTH}})_([0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}})$`,
);

/** Reads a credential's kind and prefix, or `null` when it is malformed or its checksum fails. */
export function parseCredential(value: string): ParsedCredential | null {
  const match = SHAPE.exec(value);
  if (!match) return null;
  const [, marker, prefix, body] = match as unknown as [string, string, string, string];
  const kind = (Object.keys(credentialKinds) as CredentialKind[]).find((k) => credentialKinds[k] === marker);
  if (!kind) return null;
  const checked = value.slice(0, value.length - CHECKSUM_LENGTH);
  if (checksumOf(checked) !== body.slice(RANDOM_LENGTH)) return null;
  return { kind, prefix };
}
