import { Type } from 'typebox';
import { defineRoutes } from './route.js';
import { Empty } from './schemas/common.js';
import {
  Jwks,
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
} from './schemas/auth.js';
import {
  CreatedPersonalToken,
  CreatePersonalTokenRequest,
  CreateUserRequest,
  PersonalTokenList,
  PersonalTokenParams,
  UpdateUserRequest,
  User,
  UserList,
  UserListQuery,
  UserParams,
} from './schemas/users.js';
import {
  CreateProjectRequest,
  MemberParams,
  Membership,
  MembershipList,
  Project,
  ProjectList,
  ProjectParams,
  SetMembershipRequest,
} from './schemas/projects.js';
import { AuditList, AuditQuery, AuditVerifyResult } from './schemas/audit.js';
import { DaemonStatus, Health, HumanWhoami } from './schemas/system.js';

const SetupResult = Type.Object({ user: User, project: Project });

/**
 * Every route of the daemon's HTTP API. The key is the OpenAPI `operationId`.
 * The daemon registers exactly these; the OpenAPI document and the clients are derived from them.
 */
export const routes = defineRoutes({
  // ── health and identity ─────────────────────────────────────────────────────────────────
  health: { method: 'GET', path: '/healthz', auth: 'public', tag: 'system', summary: 'Liveness', response: { 200: Health } },
  status: {
    method: 'GET',
    path: '/v1/status',
    auth: 'public',
    tag: 'system',
    summary: 'Daemon version, uptime, database and keychain backend',
    response: { 200: DaemonStatus },
  },
  whoami: {
    method: 'GET',
    path: '/v1/whoami',
    auth: 'user',
    tag: 'system',
    summary: 'The caller and the project the request acts in',
    response: { 200: HumanWhoami },
  },
  jwks: {
    method: 'GET',
    path: '/.well-known/jwks.json',
    auth: 'public',
    tag: 'auth',
    summary: 'Public keys that sign access tokens',
    response: { 200: Jwks },
  },

  // ── human authentication ────────────────────────────────────────────────────────────────
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

  // ── users ───────────────────────────────────────────────────────────────────────────────
  listUsers: {
    method: 'GET',
    path: '/admin/users',
    auth: 'user_admin',
    tag: 'users',
    summary: 'List users',
    querystring: UserListQuery,
    response: { 200: UserList },
    paged: true,
  },
  createUser: {
    method: 'POST',
    path: '/admin/users',
    auth: 'user_admin',
    tag: 'users',
    summary: 'Create a human user',
    body: CreateUserRequest,
    response: { 201: User },
  },
  updateUser: {
    method: 'PATCH',
    path: '/admin/users/{id}',
    auth: 'user_admin',
    tag: 'users',
    summary: 'Change role, email, password, tool ceiling or disable (absent = unchanged)',
    params: UserParams,
    body: UpdateUserRequest,
    response: { 200: User },
  },
  deleteUser: {
    method: 'DELETE',
    path: '/admin/users/{id}',
    auth: 'user_admin',
    tag: 'users',
    summary: 'Delete a user (never the last super_admin)',
    params: UserParams,
    response: { 204: Empty },
  },
  listPersonalTokens: {
    method: 'GET',
    path: '/admin/users/{id}/tokens',
    auth: 'user',
    tag: 'users',
    summary: "A user's personal API tokens (own tokens, or any as user admin)",
    params: UserParams,
    response: { 200: PersonalTokenList },
  },
  createPersonalToken: {
    method: 'POST',
    path: '/admin/users/{id}/tokens',
    auth: 'user',
    tag: 'users',
    summary: 'Create a personal API token for scripts (shown once)',
    params: UserParams,
    body: CreatePersonalTokenRequest,
    response: { 201: CreatedPersonalToken },
  },
  revokePersonalToken: {
    method: 'DELETE',
    path: '/admin/users/{id}/tokens/{token_id}',
    auth: 'user',
    tag: 'users',
    summary: 'Revoke a personal API token',
    params: PersonalTokenParams,
    response: { 204: Empty },
  },

  // ── projects ────────────────────────────────────────────────────────────────────────────
  listProjects: {
    method: 'GET',
    path: '/admin/projects',
    auth: 'user',
    tag: 'projects',
    summary: 'Projects the caller can see',
    response: { 200: ProjectList },
  },
  createProject: {
    method: 'POST',
    path: '/admin/projects',
    auth: 'user_admin',
    tag: 'projects',
    summary: 'Create a project; the creator becomes its admin',
    body: CreateProjectRequest,
    response: { 201: Project },
  },
  listMembers: {
    method: 'GET',
    path: '/admin/projects/{id}/members',
    auth: 'user',
    tag: 'projects',
    summary: "A project's members",
    params: ProjectParams,
    response: { 200: MembershipList },
  },
  setMember: {
    method: 'PUT',
    path: '/admin/projects/{id}/members/{user_id}',
    auth: 'user',
    tag: 'projects',
    summary: "Add a member or change a member's privilege (project admin)",
    params: MemberParams,
    body: SetMembershipRequest,
    response: { 200: Membership },
  },
  removeMember: {
    method: 'DELETE',
    path: '/admin/projects/{id}/members/{user_id}',
    auth: 'user',
    tag: 'projects',
    summary: 'Remove a member (project admin)',
    params: MemberParams,
    response: { 204: Empty },
  },

  // ── audit ───────────────────────────────────────────────────────────────────────────────
  listAudit: {
    method: 'GET',
    path: '/v1/audit',
    auth: 'project_member',
    tag: 'audit',
    summary: 'Audit events of the project, newest first',
    querystring: AuditQuery,
    response: { 200: AuditList },
    paged: true,
  },
  verifyAudit: {
    method: 'GET',
    path: '/v1/audit/verify',
    auth: 'user',
    tag: 'audit',
    summary: 'Recompute the hash chain over every audit event',
    response: { 200: AuditVerifyResult },
  },
});

export type Routes = typeof routes;
export type RouteName = keyof Routes;
