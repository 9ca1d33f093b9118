import { routes, type Agent } from '@gatehouse/shared';
import type { UserRow } from '../../storage/entities.js';
import { anonymousActor } from '../../domain/actor.js';
import { notFound, ProblemError } from '../../errors.js';
import { OtasRefusal } from '../otas.js';
import { implement } from '../route-binding.js';
import { isSdkKeyActive } from '../../domain/projects/sdk-keys.service.js';
import type { Services } from '../services.js';

/** Every agent of a project, read a page at a time (OTAS's list has no paging). */
async function allAgents(services: Services, projectId: string): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (;;) {
    const { items, total } = await services.agents.list(projectId, { limit: 1000, offset: agents.length });
    agents.push(...items);
    if (items.length === 0 || agents.length >= total) return agents;
  }
}

/** OTAS's view of a user. */
const otasUser = (user: UserRow) => ({
  id: user.id,
  first_name: user.first_name,
  middle_name: user.middle_name,
  last_name: user.last_name,
  email: user.email,
  created_at: user.created_at,
  updated_at: user.updated_at,
});

/** OTAS's 400 for required fields that are absent or blank. */
function requireFields(body: Record<string, unknown>, names: string[], description: (missing: string[]) => string) {
  const missing = names.filter((name) => typeof body[name] !== 'string' || (body[name] as string).trim() === '');
  if (missing.length > 0)
    throw new OtasRefusal('validation_failed', description(missing), 'Required fields are missing.');
}

const MIN_PASSWORD_LENGTH = 10;

/** The OTAS seed's login and agent creation, answered in OTAS's envelope (SPEC §6). */
export const otasRoutes = [
  implement(routes.otasLogin, async ({ services, body, request }) => {
    const client = { source: request.ip, userAgent: request.headers['user-agent'] ?? null };
    const tokens = await services.sessions.login({ username: body.email, password: body.password }, client);
    const { user } = (await services.sessions.authenticate(tokens.access_token))!;
    return {
      status: 1 as const,
      status_description: 'login_success' as const,
      response: { user: { id: user.id, username: user.username, email: user.email }, jwt_token: tokens.access_token },
    };
  }),

  implement(routes.otasCreateAgent, async ({ services, auth, body }) => {
    const { agent, key } = await services.agents.create(
      auth.project,
      { name: body.agent_name, description: body.agent_description ?? null, provider: body.agent_provider },
      { issueKey: true },
      auth.actor,
    );
    return {
      status: 1 as const,
      status_description: 'agent_created' as const,
      response: {
        agent: {
          id: agent.id,
          name: agent.name,
          description: agent.description,
          provider: agent.provider,
          project_id: agent.project_id,
          created_by: agent.created_by,
          created_at: agent.created_at,
        },
        agent_key: {
          id: key!.id,
          prefix: key!.prefix,
          api_key: key!.api_key,
          agent_id: agent.id,
          created_at: key!.created_at,
          expires_at: key!.expires_at,
          active: key!.active,
        },
      },
    };
  }),

  implement(routes.otasAuthenticateUser, async ({ auth }) => ({
    status: 1 as const,
    status_description: 'user_authenticated' as const,
    response_body: { user: { ...otasUser(auth.user), username: auth.user.username } },
  })),

  implement(routes.otasListAgents, async ({ services, auth }) => {
    const agents = await allAgents(services, auth.project.id);
    return {
      status: 1 as const,
      status_description: 'agents_listed' as const,
      response: {
        project_id: auth.project.id,
        agents: await Promise.all(
          agents.map(async (agent) => {
            const keys = await services.agentKeys.list(await services.agents.find(auth.project.id, agent.id));
            return {
              id: agent.id,
              name: agent.name,
              description: agent.description,
              provider: agent.provider,
              created_at: agent.created_at,
              created_by: agent.created_by,
              is_active: agent.status === 'active',
              agent_keys: keys.map((key) => ({
                id: key.id,
                prefix: key.prefix,
                name: key.label,
                created_at: key.created_at,
                expires_at: key.expires_at,
                active: key.active,
              })),
            };
          }),
        ),
      },
    };
  }),

  implement(routes.otasCreateAgentSession, async ({ services, request, body }) => {
    const key = request.headers['x-otas-agent-key'];
    if (typeof key !== 'string' || key === '')
      throw new ProblemError('unauthorized', 'Send the key as X-OTAS-AGENT-KEY.');
    // The key names its agent; tokenForKey checks it again, counts its use and records a failure as any sign-in's.
    const check = await services.agentKeys.check(key);
    const tokens = await services.agentAuth.tokenForKey(
      check.ok ? check.agent.id : (check.agentId ?? ''),
      key,
      anonymousActor(request.ip),
      { meta: body?.meta ?? null },
    );
    return {
      status: 1 as const,
      status_description: 'agent_session_created' as const,
      response: { Header_value: 'X-OTAS-AGENT-SESSION-TOKEN' as const, jwt_token: tokens.access_token },
    };
  }),

  implement(routes.otasCreateAgentKey, async ({ services, auth, body }) => {
    const owner = { agent: await services.agents.find(auth.project.id, body.agent_id), projectSlug: auth.project.slug };
    // OTAS renews keys of active agents only; any other is not found.
    if (owner.agent.status !== 'active') throw notFound('Agent');
    const key = await services.agentKeys.replaceActive(owner, { expires_in_days: body.validity ?? 30 }, auth.actor);
    return {
      status: 1 as const,
      status_description: 'agent_key_created' as const,
      response: {
        agent_id: owner.agent.id,
        agent_key: {
          id: key.id,
          prefix: key.prefix,
          api_key: key.api_key,
          created_at: key.created_at,
          expires_at: key.expires_at,
          active: key.active,
        },
      },
    };
  }),

  implement(routes.otasRevokeAgentKey, async ({ services, auth, body }) => {
    const owner = {
      agent: await services.agentKeys.agentOfKey(auth.project.id, body.agent_key_id),
      projectSlug: auth.project.slug,
    };
    // OTAS revokes only active keys: an already dead one is not found.
    const current = (await services.agentKeys.list(owner.agent)).find((key) => key.id === body.agent_key_id);
    if (!current?.active) throw notFound('Key');
    const revoked = await services.agentKeys.revoke(owner, body.agent_key_id, auth.actor);
    return { status: 1 as const, status_description: 'agent_key_revoked' as const, response: { id: revoked.id } };
  }),

  implement(routes.otasListProjects, async ({ services, auth }) => ({
    status: 1 as const,
    status_description: 'projects_listed' as const,
    response_body: {
      projects: (await services.projects.privilegesOf(auth.user)).map(({ project, privilege }) => ({
        id: project.id,
        name: project.name,
        description: project.description,
        domain: project.domain,
        created_at: project.created_at,
        // A project's name and slug never change after creation.
        updated_at: project.created_at,
        is_active: true,
        created_by: project.created_by,
        privilege,
      })),
    },
  })),

  implement(routes.otasCreateProject, async ({ services, auth, body }) => {
    const project = await services.projects.create(
      { name: body.project_name.trim(), description: body.project_description, domain: body.project_domain },
      auth.actor,
    );
    const row = await services.projects.byId(project.id);
    return {
      status: 1 as const,
      status_description: 'project_created' as const,
      response_body: { project: { id: row.id, name: row.name, description: row.description, domain: row.domain } },
    };
  }),

  implement(routes.otasListAgentSessions, async ({ services, auth, query }) => {
    const agent = await services.agents.find(auth.project.id, query.agent_id).catch(() => null);
    if (!agent || agent.status !== 'active')
      throw new OtasRefusal('forbidden', 'agent_not_found_or_no_access', 'No such active agent in this project.');
    const sessions = await services.agentAuth.sessionsOf(agent);
    return {
      status: 1 as const,
      status_description: 'agent_sessions_listed' as const,
      response: {
        agent_id: agent.id,
        sessions: sessions.map((session) => ({
          id: session.id,
          agent_key_id: session.key_id,
          created_at: session.created_at,
          meta: session.meta === null ? null : (JSON.parse(session.meta) as Record<string, unknown>),
        })),
      },
    };
  }),

  implement(routes.otasListSdkKeys, async ({ services, auth }) => ({
    status: 1 as const,
    status_description: 'backend_sdk_keys_listed' as const,
    response_body: {
      keys: (await services.sdkKeys.list(auth.project)).map((key) => ({
        id: key.id,
        prefix: key.prefix,
        name: key.name,
        created_at: key.created_at,
        expires_at: key.expires_at,
        active: isSdkKeyActive(key),
        revoked_at: key.revoked_at,
      })),
    },
  })),

  implement(routes.otasCreateSdkKey, async ({ services, auth, body }) => {
    const { key, plaintext } = await services.sdkKeys.create(auth.project, body.validity, auth.actor);
    return {
      status: 1 as const,
      status_description: 'backend_sdk_key_created' as const,
      response_body: {
        id: key.id,
        prefix: key.prefix,
        api_key: plaintext,
        project_id: key.project_id,
        name: key.name,
        created_at: key.created_at,
        expires_at: key.expires_at,
        active: true,
      },
    };
  }),

  implement(routes.otasRevokeSdkKey, async ({ services, auth, body }) => {
    const key = await services.sdkKeys.revoke(auth.project, body.sdk_key_id, auth.actor);
    return {
      status: 1 as const,
      status_description: 'backend_sdk_key_revoked' as const,
      response_body: { id: key.id },
    };
  }),

  implement(routes.otasAuthenticateSdkKey, async ({ services, request }) => {
    const key = request.headers['x-otas-sdk-key'];
    if (typeof key !== 'string' || key === '')
      throw new OtasRefusal('unauthorized', 'sdk_key_missing', 'Send the key as X-OTAS-SDK-KEY.');
    const checked = await services.sdkKeys.authenticate(key);
    if ('refused' in checked) {
      // Counted and audited as every failed sign-in is; refused as OTAS refuses a bad key (403)
      // until the failures pass a limit, then 429 with Retry-After.
      const problem = await services.authFailures.fail({ actor: anonymousActor(request.ip), ...checked.refused });
      if (problem.code === 'rate_limited') throw problem;
      throw new OtasRefusal('forbidden', 'invalid_sdk_key', 'The SDK key is unknown, expired or revoked.');
    }
    const { project } = checked;
    return {
      status: 1 as const,
      status_description: 'authenticated' as const,
      response: { project: { id: project.id, name: project.name, description: project.description } },
    };
  }),

  implement(routes.otasVerifyAgentKey, async ({ services, request }) => {
    const key = request.headers['x-otas-agent-key'];
    if (typeof key !== 'string' || key === '')
      throw new ProblemError('unauthorized', 'Send the key as X-OTAS-AGENT-KEY.');
    const check = await services.agentKeys.check(key);
    if (!check.ok) {
      // Refused as every sign-in with a bad key is: audited, and rate limited per source and prefix.
      throw await services.authFailures.fail({
        actor: anonymousActor(request.ip),
        reason: check.reason,
        prefix: check.prefix,
        agentId: check.agentId,
        projectId: check.projectId,
      });
    }
    services.usage.keyUsed(check.key.id, check.agent.id);
    return {
      status: 1 as const,
      status_description: 'authenticated' as const,
      response: {
        project_id: check.agent.project_id,
        agent: { id: check.agent.id, name: check.agent.name, provider: check.agent.provider },
      },
    };
  }),

  implement(routes.otasAuthenticateAgentUser, async ({ services, auth, request }) => {
    const agentId = request.headers['x-otas-agent-id'];
    if (typeof agentId !== 'string' || agentId === '')
      throw new OtasRefusal('bad_request', 'missing_agent_id', 'Send the agent as X-OTAS-AGENT-ID.');
    const agent = await services.agents.find(auth.project.id, agentId);
    if (agent.status !== 'active') throw notFound('Agent');
    return {
      status: 1 as const,
      status_description: 'authenticated' as const,
      agent: { id: agent.id, name: agent.name, project_id: auth.project.id },
    };
  }),

  implement(routes.otasCreateUser, async ({ services, body, request }) => {
    if (!services.config.allowSignup)
      throw new OtasRefusal('forbidden', 'signup_disabled', 'Sign-up is off; an admin creates users.');
    requireFields(
      body,
      ['first_name', 'last_name', 'email', 'password'],
      (missing) => `missing_fields: ${missing.join(', ')}`,
    );
    const email = body.email!.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 64)
      throw new OtasRefusal('validation_failed', 'invalid_email_format', 'Not an email address Gatehouse can take.');
    if (body.password!.length < MIN_PASSWORD_LENGTH)
      throw new OtasRefusal(
        'validation_failed',
        'password_too_short',
        `Passwords have ${MIN_PASSWORD_LENGTH} characters at least.`,
      );
    const actor = anonymousActor(request.ip);
    const user = await services.users
      .signUp(
        {
          email,
          password: body.password!,
          first_name: body.first_name!.trim(),
          middle_name: body.middle_name?.trim() || null,
          last_name: body.last_name!.trim(),
        },
        actor,
      )
      .catch((error: unknown) => {
        if (error instanceof ProblemError && error.code === 'conflict')
          throw new OtasRefusal('validation_failed', 'user_already_exists', error.detail);
        throw error;
      });
    const client = { source: request.ip, userAgent: request.headers['user-agent'] ?? null };
    const tokens = await services.sessions.login({ username: email, password: body.password! }, client);
    return {
      status: 1 as const,
      status_description: 'user_created' as const,
      response_body: { user: otasUser(user), jwt_token: tokens.access_token },
    };
  }),

  implement(routes.otasEditUser, async ({ services, auth, body }) => {
    requireFields(body, ['first_name', 'last_name'], () => 'missing_required_fields');
    const user = await services.users.updateProfile(
      auth.user,
      {
        first_name: body.first_name!.trim(),
        middle_name: body.middle_name?.trim() || null,
        last_name: body.last_name!.trim(),
      },
      auth.actor,
    );
    return {
      status: 1 as const,
      status_description: 'user_profile_updated' as const,
      response_body: { user: otasUser(user) },
    };
  }),

  implement(routes.otasUpdatePassword, async ({ services, auth, body }) => {
    if (!body.password) throw new OtasRefusal('validation_failed', 'missing_password', 'Send the new password.');
    if (body.password.length < MIN_PASSWORD_LENGTH)
      throw new OtasRefusal(
        'validation_failed',
        'password_too_short',
        `Passwords have ${MIN_PASSWORD_LENGTH} characters at least.`,
      );
    if (!body.current_password)
      throw new OtasRefusal(
        'validation_failed',
        'current_password_required',
        'Gatehouse also wants the current password.',
      );
    await services.sessions
      .changePassword(auth.user, auth.sessionId, body.current_password, body.password, auth.actor)
      .catch((error: unknown) => {
        if (error instanceof ProblemError && error.code === 'forbidden')
          throw new OtasRefusal('forbidden', 'wrong_current_password', error.detail);
        throw error;
      });
    return { status: 1 as const, status_description: 'password_updated' as const, response_body: null };
  }),

  implement(routes.otasPasswordResetInit, () => {
    throw passwordResetByMail();
  }),

  implement(routes.otasPasswordResetConfirm, () => {
    throw passwordResetByMail();
  }),
];

function passwordResetByMail(): OtasRefusal {
  return new OtasRefusal(
    'not_supported',
    'password_reset_by_mail_not_supported',
    'Gatehouse sends no mail: an admin sets a new password (PATCH /admin/users/{id}), or change it signed in.',
  );
}
