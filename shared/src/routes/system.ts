import { Whoami } from '../schemas/agent-auth.js';
import { Jwks } from '../schemas/auth.js';
import { DaemonStatus, Health } from '../schemas/system.js';
import { defineRoutes } from '../route.js';

export const systemRoutes = defineRoutes({
  health: {
    method: 'GET',
    path: '/healthz',
    auth: 'public',
    tag: 'system',
    summary: 'Liveness',
    response: { 200: Health },
  },
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
    auth: 'any',
    tag: 'system',
    summary: 'The caller (a human or an agent) and the project the request acts in',
    response: { 200: Whoami },
  },
  jwks: {
    method: 'GET',
    path: '/.well-known/jwks.json',
    auth: 'public',
    tag: 'auth',
    summary: 'Public keys that sign access tokens',
    response: { 200: Jwks },
  },
});
