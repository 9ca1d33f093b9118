import { Type, type Static } from 'typebox';
import { Nullable, StrictObject, Timestamp } from './common.js';

/*
 * The OTAS seed's routes (SPEC §6) keep OTAS's own envelope: `{status: 1, status_description,
 * response}` on success and `{status: 0, status_description}` on failure, with its codes.
 */

export const OtasFailure = Type.Object({
  status: Type.Literal(0),
  status_description: Type.String({
    description: 'forbidden, agent_creation_failed, missing_headers, invalid_token, …',
  }),
});
export type OtasFailure = Static<typeof OtasFailure>;

export const OtasLoginRequest = StrictObject({
  email: Type.String({ minLength: 1, maxLength: 254, description: 'Email (or username)' }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
});
export type OtasLoginRequest = Static<typeof OtasLoginRequest>;

export const OtasLoginResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('login_success'),
  response: Type.Object({
    user: Type.Object({ id: Type.String(), username: Type.String(), email: Nullable(Type.String()) }),
    jwt_token: Type.String({ description: 'An access token: send it as X-OTAS-USER-TOKEN' }),
  }),
});

export const OtasCreateAgentRequest = StrictObject({
  agent_name: Type.String({ minLength: 1, maxLength: 256 }),
  agent_description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  agent_provider: Type.String({ minLength: 1, maxLength: 128 }),
});
export type OtasCreateAgentRequest = Static<typeof OtasCreateAgentRequest>;

export const OtasCreateAgentResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agent_created'),
  response: Type.Object({
    agent: Type.Object({
      id: Type.String(),
      name: Type.String(),
      description: Nullable(Type.String()),
      provider: Nullable(Type.String()),
      project_id: Type.String(),
      created_by: Nullable(Type.String()),
      created_at: Timestamp,
    }),
    agent_key: Type.Object({
      id: Type.String(),
      prefix: Type.String(),
      api_key: Type.String({ description: 'Shown this once' }),
      agent_id: Type.String(),
      created_at: Timestamp,
      expires_at: Nullable(Timestamp),
      active: Type.Boolean(),
    }),
  }),
});
export type OtasCreateAgentResponse = Static<typeof OtasCreateAgentResponse>;

/** `POST /api/user/v1/authenticate/`: the token check an OTAS client makes on every page load. */
export const OtasAuthenticateUserResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('user_authenticated'),
  response_body: Type.Object({
    user: Type.Object({
      id: Type.String(),
      username: Type.String(),
      first_name: Nullable(Type.String()),
      email: Nullable(Type.String()),
      created_at: Timestamp,
    }),
  }),
});

const OtasListedKey = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  name: Nullable(Type.String({ description: "The key's label" })),
  created_at: Timestamp,
  expires_at: Nullable(Timestamp),
  active: Type.Boolean(),
});

/** `GET /api/agent/v1/list/`: the project's agents, each with its keys (never the keys themselves). */
export const OtasListAgentsResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agents_listed'),
  response: Type.Object({
    project_id: Type.String(),
    agents: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Type.String(),
        description: Nullable(Type.String()),
        provider: Nullable(Type.String()),
        created_at: Timestamp,
        created_by: Nullable(Type.String()),
        is_active: Type.Boolean(),
        agent_keys: Type.Array(OtasListedKey),
      }),
    ),
  }),
});

/** `POST /api/agent/v1/session/create/` (`X-OTAS-AGENT-KEY`): the agent's own sign-in. */
export const OtasCreateAgentSessionRequest = StrictObject({
  meta: Type.Optional(
    Nullable(Type.Record(Type.String(), Type.Unknown(), { description: "OTAS's session notes; not kept" })),
  ),
});
export type OtasCreateAgentSessionRequest = Static<typeof OtasCreateAgentSessionRequest>;

export const OtasCreateAgentSessionResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agent_session_created'),
  response: Type.Object({
    Header_value: Type.Literal('X-OTAS-AGENT-SESSION-TOKEN'),
    jwt_token: Type.String({ description: 'An agent access token: also accepted as Authorization: Bearer' }),
  }),
});

/** `POST /api/agent/v1/agents/key/create/`: a new key for the agent; its earlier active keys stop. */
export const OtasCreateAgentKeyRequest = StrictObject({
  agent_id: Type.String({ minLength: 1, maxLength: 128 }),
  validity: Type.Optional(Type.Integer({ minimum: 1, maximum: 300, default: 30, description: 'Days the key lasts' })),
});
export type OtasCreateAgentKeyRequest = Static<typeof OtasCreateAgentKeyRequest>;

export const OtasCreateAgentKeyResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agent_key_created'),
  response: Type.Object({
    agent_id: Type.String(),
    agent_key: Type.Object({
      id: Type.String(),
      prefix: Type.String(),
      api_key: Type.String({ description: 'Shown this once' }),
      created_at: Timestamp,
      expires_at: Nullable(Timestamp),
      active: Type.Boolean(),
    }),
  }),
});

/** `POST /api/agent/v1/agents/key/revoke/`. */
export const OtasRevokeAgentKeyRequest = StrictObject({ agent_key_id: Type.String({ minLength: 1, maxLength: 128 }) });
export type OtasRevokeAgentKeyRequest = Static<typeof OtasRevokeAgentKeyRequest>;

export const OtasRevokeAgentKeyResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agent_key_revoked'),
  response: Type.Object({ id: Type.String() }),
});

const OtasProject = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  domain: Nullable(Type.String()),
});

/** `GET /api/project/v1/list/` (`X-OTAS-USER-TOKEN`): the caller's projects, newest first, with its privilege. */
export const OtasListProjectsResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('projects_listed'),
  response_body: Type.Object({
    projects: Type.Array(
      Type.Object({
        ...OtasProject.properties,
        created_at: Timestamp,
        updated_at: Timestamp,
        is_active: Type.Boolean(),
        created_by: Nullable(Type.String()),
        privilege: Type.Integer({ description: '1 admin, 2 member' }),
      }),
    ),
  }),
});

/** `POST /api/project/v1/create/`: the creator becomes the project's admin. */
export const OtasCreateProjectRequest = StrictObject({
  project_name: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
  project_description: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
  project_domain: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
});
export type OtasCreateProjectRequest = Static<typeof OtasCreateProjectRequest>;

export const OtasCreateProjectResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('project_created'),
  response_body: Type.Object({ project: OtasProject }),
});

/** `GET /api/agent/v1/sessions/list/?agent_id=`: the agent's sessions, newest first. */
export const OtasListAgentSessionsQuery = Type.Object({ agent_id: Type.String({ minLength: 1, maxLength: 128 }) });
export type OtasListAgentSessionsQuery = Static<typeof OtasListAgentSessionsQuery>;

export const OtasListAgentSessionsResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('agent_sessions_listed'),
  response: Type.Object({
    agent_id: Type.String(),
    sessions: Type.Array(
      Type.Object({
        id: Type.String(),
        agent_key_id: Nullable(Type.String({ description: 'The key it was opened with; null for other sign-ins' })),
        created_at: Timestamp,
        meta: Nullable(Type.Record(Type.String(), Type.Unknown())),
      }),
    ),
  }),
});

const OtasSdkKey = Type.Object({
  id: Type.String(),
  prefix: Type.String(),
  name: Nullable(Type.String()),
  created_at: Timestamp,
  expires_at: Nullable(Timestamp),
  active: Type.Boolean(),
});

/** `GET /api/project/v1/sdk/backend/key/list/`: the project's backend SDK keys, newest first, never a key itself. */
export const OtasListSdkKeysResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('backend_sdk_keys_listed'),
  response_body: Type.Object({
    keys: Type.Array(Type.Object({ ...OtasSdkKey.properties, revoked_at: Nullable(Timestamp) })),
  }),
});

/** `POST /api/project/v1/sdk/backend/key/create/`: a key valid `validity` days (1 to 300), shown once. */
export const OtasCreateSdkKeyRequest = StrictObject({
  validity: Type.Integer({ minimum: 1, maximum: 300, description: 'Days the key lasts' }),
});
export type OtasCreateSdkKeyRequest = Static<typeof OtasCreateSdkKeyRequest>;

export const OtasCreateSdkKeyResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('backend_sdk_key_created'),
  response_body: Type.Object({
    ...OtasSdkKey.properties,
    api_key: Type.String({ description: 'Shown this once' }),
    project_id: Type.String(),
  }),
});

/** `POST /api/project/v1/sdk/backend/key/revoke/`. */
export const OtasRevokeSdkKeyRequest = StrictObject({ sdk_key_id: Type.String({ minLength: 1, maxLength: 128 }) });
export type OtasRevokeSdkKeyRequest = Static<typeof OtasRevokeSdkKeyRequest>;

export const OtasRevokeSdkKeyResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('backend_sdk_key_revoked'),
  response_body: Type.Object({ id: Type.String() }),
});

/** `POST /api/project/v1/sdk/backend/key/authenticate/` (`X-OTAS-SDK-KEY`): the backend SDK's sign-in. */
export const OtasAuthenticateSdkKeyResponse = Type.Object({
  status: Type.Literal(1),
  status_description: Type.Literal('authenticated'),
  response: Type.Object({
    project: Type.Object({ id: Type.String(), name: Type.String(), description: Nullable(Type.String()) }),
  }),
});
