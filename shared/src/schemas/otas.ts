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
