import { Type } from 'typebox';
import {
  LoginRequest,
  LogoutRequest,
  MfaCodeRequest,
  MfaSetupResponse,
  MfaState,
  PasswordChangeRequest,
  RefreshRequest,
  SetupRequest,
  SetupStatus,
  TokenPair,
} from '../schemas/auth.js';
import { Empty } from '../schemas/common.js';
import { Project } from '../schemas/projects.js';
import { User } from '../schemas/users.js';
import { defineRoutes } from '../route.js';

const SetupResult = Type.Object({ user: User, project: Project });

export const authRoutes = defineRoutes({
  setupStatus: {
    method: 'GET',
    path: '/auth/setup',
    auth: 'public',
    tag: 'auth',
    summary: 'Whether first-run setup is still needed',
    response: { 200: SetupStatus },
  },
  setup: {
    method: 'POST',
    path: '/auth/setup',
    auth: 'public',
    tag: 'auth',
    summary: 'Create the first super_admin and the default project (once)',
    body: SetupRequest,
    response: { 201: SetupResult },
  },
  login: {
    method: 'POST',
    path: '/auth/login',
    auth: 'public',
    tag: 'auth',
    summary: 'Sign in with username (or email), password and, with MFA on, a TOTP code',
    body: LoginRequest,
    response: { 200: TokenPair },
  },
  refresh: {
    method: 'POST',
    path: '/auth/refresh',
    auth: 'public',
    tag: 'auth',
    summary: 'Rotate a refresh token; reusing a rotated one revokes the whole session',
    body: RefreshRequest,
    response: { 200: TokenPair },
  },
  logout: {
    method: 'POST',
    path: '/auth/logout',
    auth: 'user',
    tag: 'auth',
    summary: 'End the current session (all its tokens)',
    body: LogoutRequest,
    response: { 204: Empty },
  },
  changePassword: {
    method: 'POST',
    path: '/auth/password',
    auth: 'user',
    tag: 'auth',
    summary: "Change the signed-in user's password; other sessions are ended",
    body: PasswordChangeRequest,
    response: { 204: Empty },
  },
  mfaSetup: {
    method: 'POST',
    path: '/auth/mfa/setup',
    auth: 'user',
    tag: 'auth',
    summary: 'Start MFA enrolment: the TOTP secret and otpauth URI, shown once',
    response: { 200: MfaSetupResponse },
  },
  mfaVerify: {
    method: 'POST',
    path: '/auth/mfa/verify',
    auth: 'user',
    tag: 'auth',
    summary: 'Confirm enrolment with a current code; MFA is on from then',
    body: MfaCodeRequest,
    response: { 200: MfaState },
  },
  mfaDisable: {
    method: 'POST',
    path: '/auth/mfa/disable',
    auth: 'user',
    tag: 'auth',
    summary: 'Turn MFA off (needs a current code)',
    body: MfaCodeRequest,
    response: { 200: MfaState },
  },
});
