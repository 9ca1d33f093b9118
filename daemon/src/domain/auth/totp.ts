import { Secret, TOTP } from 'otpauth';

/** RFC 6238: SHA-1, 6 digits, 30-second steps; a code from one step either side is accepted. */
const PERIOD = 30;
const WINDOW = 1;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, label = 'gatehouse'): TOTP {
  return new TOTP({
    issuer: 'Gatehouse',
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

export const otpauthUri = (secret: string, username: string): string => totp(secret, username).toString();

export const currentTotpCode = (secret: string, now = Date.now()): string => totp(secret).generate({ timestamp: now });

/** Seconds until the code of `now` stops being the current one. */
export const totpSecondsLeft = (now = Date.now()): number => PERIOD - (Math.floor(now / 1000) % PERIOD);

/**
 * The time step `code` belongs to, or `null` when it is wrong or was already used: a step at or
 * before `lastUsedStep` is refused, so each code works once (replay guard).
 */
export function acceptTotpCode(
  secret: string,
  code: string,
  lastUsedStep: number | null,
  now = Date.now(),
): number | null {
  const delta = totp(secret).validate({ token: code, timestamp: now, window: WINDOW });
  if (delta === null) return null;
  const step = Math.floor(now / 1000 / PERIOD) + delta;
  if (lastUsedStep !== null && step <= lastUsedStep) return null;
  return step;
}
