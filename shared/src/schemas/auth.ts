import { Type, type Static } from 'typebox';
import { NameString, StrictObject } from './common.js';

/** Usernames: 1–64 chars, letters, digits and `._@+-` (agent users add `_`). */
export const Username = NameString({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._@+_-]*$' });
/** Passwords: at least 10 characters; bounded so hashing cannot be abused. */
export const Password = Type.String({ minLength: 10, maxLength: 1024 });
/** A 6-digit TOTP code (RFC 6238). */
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });

export const SetupStatus = Type.Object({ needs_setup: Type.Boolean() });
export type SetupStatus = Static<typeof SetupStatus>;

export const SetupRequest = StrictObject({
  username: Username,
  password: Password,
  email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
});
export type SetupRequest = Static<typeof SetupRequest>;

export const LoginRequest = StrictObject({
  username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  totp_code: Type.Optional(TotpCode),
});
export type LoginRequest = Static<typeof LoginRequest>;

/** Access token (EdDSA JWT, 15 minutes) and a rotating refresh token (30 days). */
export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});
export type TokenPair = Static<typeof TokenPair>;

/**
 * The browser console's session: the access token for page memory; the refresh token travels
 * only in an HttpOnly cookie, never in a body page script can read.
 */
export const ConsoleSession = Type.Object({
  access_token: Type.String(),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
});
export type ConsoleSession = Static<typeof ConsoleSession>;

export const RefreshRequest = StrictObject({ refresh_token: Type.String({ minLength: 1, maxLength: 256 }) });
export type RefreshRequest = Static<typeof RefreshRequest>;

export const LogoutRequest = StrictObject({
  refresh_token: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});
export type LogoutRequest = Static<typeof LogoutRequest>;

export const PasswordChangeRequest = StrictObject({
  current_password: Type.String({ minLength: 1, maxLength: 1024 }),
  new_password: Password,
});
export type PasswordChangeRequest = Static<typeof PasswordChangeRequest>;

/** Shown once: the TOTP secret (base32) and the `otpauth://` URI for an authenticator app. */
export const MfaSetupResponse = Type.Object({
  secret: Type.String(),
  otpauth_uri: Type.String(),
});
export type MfaSetupResponse = Static<typeof MfaSetupResponse>;

export const MfaCodeRequest = StrictObject({ code: TotpCode });
export type MfaCodeRequest = Static<typeof MfaCodeRequest>;

export const MfaState = Type.Object({ mfa_enabled: Type.Boolean() });
export type MfaState = Static<typeof MfaState>;

/** One public key of `/.well-known/jwks.json` (OKP / Ed25519). */
export const Jwk = Type.Object({
  kty: Type.Literal('OKP'),
  crv: Type.Literal('Ed25519'),
  x: Type.String(),
  kid: Type.String(),
  alg: Type.Literal('EdDSA'),
  use: Type.Literal('sig'),
});
export const Jwks = Type.Object({ keys: Type.Array(Jwk) });
export type Jwks = Static<typeof Jwks>;
