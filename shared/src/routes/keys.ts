import { AgentParams } from '../schemas/agents.js';
import { PageQuery } from '../schemas/common.js';
import {
  AgentKey,
  AgentKeyList,
  CreateKeyRequest,
  IssuedAgentKey,
  KeyParams,
  RotateKeyRequest,
} from '../schemas/keys.js';
import { defineRoutes } from '../route.js';

export const keysRoutes = defineRoutes({
  listKeys: {
    method: 'GET',
    path: '/v1/agents/{name}/keys',
    auth: 'project_member',
    tag: 'keys',
    summary: "An agent's API keys (never the keys themselves)",
    params: AgentParams,
    querystring: PageQuery,
    response: { 200: AgentKeyList },
    paged: true,
  },
  createKey: {
    method: 'POST',
    path: '/admin/agents/{name}/keys',
    auth: 'project_admin',
    tag: 'keys',
    summary: 'Issue an API key (shown once) and save it in the OS keychain',
    params: AgentParams,
    body: CreateKeyRequest,
    response: { 201: IssuedAgentKey },
  },
  rotateKey: {
    method: 'POST',
    path: '/admin/agents/{name}/keys/{key_id}/rotate',
    auth: 'project_admin',
    tag: 'keys',
    summary: 'Replace a key; the old one keeps working for grace_seconds',
    params: KeyParams,
    body: RotateKeyRequest,
    response: { 201: IssuedAgentKey },
  },
  revokeKey: {
    method: 'DELETE',
    path: '/admin/agents/{name}/keys/{key_id}',
    auth: 'project_admin',
    tag: 'keys',
    summary: 'Revoke a key now',
    params: KeyParams,
    response: { 200: AgentKey },
  },
});
