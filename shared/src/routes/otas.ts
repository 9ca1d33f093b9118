import {
  OtasCreateAgentRequest,
  OtasCreateAgentResponse,
  OtasLoginRequest,
  OtasLoginResponse,
} from '../schemas/otas.js';
import { defineRoutes } from '../route.js';

export const otasRoutes = defineRoutes({
  otasLogin: {
    method: 'POST',
    path: '/api/user/v1/login/',
    auth: 'public',
    tag: 'otas',
    summary: 'OTAS sign-in: the access token comes back as jwt_token',
    body: OtasLoginRequest,
    response: { 200: OtasLoginResponse },
    otas: { invalid: 'login_failed', unauthorized: 'invalid_credentials' },
  },
  otasCreateAgent: {
    method: 'POST',
    path: '/api/agent/v1/create/',
    auth: 'project_admin',
    tag: 'otas',
    summary: 'OTAS agent creation (X-OTAS-USER-TOKEN, X-OTAS-PROJECT-ID; admin privilege): the key is shown once',
    body: OtasCreateAgentRequest,
    response: { 201: OtasCreateAgentResponse },
    otas: {
      invalid: 'agent_creation_failed',
      unauthorized: 'invalid_token',
      requireHeaders: ['x-otas-user-token', 'x-otas-project-id'],
    },
  },
});
