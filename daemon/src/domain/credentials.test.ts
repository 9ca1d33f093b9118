import { describe, expect, it } from 'vitest';
import { checksumOf, crc32, parseCredential } from '@gatehouse/shared';
import { hashesMatch, issueCredential, randomBase62, sha256Hex } from './credentials.js';

describe('credentials', () => {
  it('issues <kind>_<8 prefix>_<32 random + 6 checksum> and keeps only a sha-256', () => {
    const key = issueCredential('agent');
    expect(key.plaintext).toMatch(/^agent_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
    expect(key.prefix).toBe(key.plaintext.slice(6, 14));
    expect(key.hash).toBe(sha256Hex(key.plaintext));
    expect(key.lastFour).toBe(key.plaintext.slice(-4));
    expect(parseCredential(key.plaintext)).toEqual({ kind: 'agent', prefix: key.prefix });
    expect(parseCredential(issueCredential('personal').plaintext)?.kind).toBe('personal');
  });

  it('rejects a mistyped credential by its checksum, and unknown kinds or shapes', () => {
    const { plaintext } = issueCredential('agent');
    const last = plaintext.at(-7)!;
    const typo = plaintext.slice(0, -7) + (last === 'a' ? 'b' : 'a') + plaintext.slice(-6);
    expect(parseCredential(typo)).toBeNull();
    expect(parseCredential(plaintext.replace(/^agent/, 'other'))).toBeNull();
    expect(parseCredential(plaintext + 'x')).toBeNull();
    expect(parseCredential('')).toBeNull();
  });

  it('computes the IEEE CRC32 and a fixed-width base62 checksum', () => {
    expect(crc32('123456789')).toBe(0xcbf43926);
    expect(checksumOf('')).toBe('000000');
    expect(checksumOf('anything')).toMatch(/^[0-9A-Za-z]{6}$/);
  });

  it('draws base62 characters without bias towards the first ones', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // Each character is expected 1000 times; modulo bias would push the first eight towards 1250.
    for (const n of counts.values()) expect(n).toBeLessThan(1180);
  });

  it('compares hashes in constant time and refuses different lengths', () => {
    const hash = sha256Hex('x');
    expect(hashesMatch(hash, sha256Hex('x'))).toBe(true);
    expect(hashesMatch(hash, sha256Hex('y'))).toBe(false);
    expect(hashesMatch(hash, hash.slice(2))).toBe(false);
  });
});
