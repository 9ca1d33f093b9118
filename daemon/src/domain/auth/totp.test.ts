import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { acceptTotpCode, currentTotpCode, newTotpSecret, otpauthUri, totpSecondsLeft } from './totp.js';

const secret = newTotpSecret();
const T = Date.UTC(2026, 10, 23, 12, 0, 15);
const step = Math.floor(T / 30_000);

describe('TOTP (RFC 6238)', () => {
  it('makes 160-bit base32 secrets and an otpauth URI authenticator apps read', () => {
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri(secret, 'ada'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Gatehouse');
  });

  it('matches what an independent authenticator computes', () => {
    const app = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });
    expect(currentTotpCode(secret, T)).toBe(app.generate({ timestamp: T }));
  });

  it('accepts the current code and one step of clock drift either way, nothing further', () => {
    expect(acceptTotpCode(secret, currentTotpCode(secret, T), null, T)).toBe(step);
    expect(acceptTotpCode(secret, currentTotpCode(secret, T - 30_000), null, T)).toBe(step - 1);
    expect(acceptTotpCode(secret, currentTotpCode(secret, T + 30_000), null, T)).toBe(step + 1);
    expect(acceptTotpCode(secret, currentTotpCode(secret, T - 90_000), null, T)).toBeNull();
    expect(acceptTotpCode(secret, 'abcdef', null, T)).toBeNull();
  });

  it('refuses a code whose step was already used, or an earlier one', () => {
    const code = currentTotpCode(secret, T);
    expect(acceptTotpCode(secret, code, step, T)).toBeNull();
    expect(acceptTotpCode(secret, currentTotpCode(secret, T - 30_000), step, T)).toBeNull();
    expect(acceptTotpCode(secret, currentTotpCode(secret, T + 30_000), step, T)).toBe(step + 1);
  });

  it('counts the seconds left in the current step', () => {
    expect(totpSecondsLeft(T)).toBe(15);
  });
});
