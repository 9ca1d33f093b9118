import { routes } from '../../../../shared/src/index.js';
import { toAgent } from '../../domain/agents/agents.service.js';
import { toProject } from '../../domain/projects/projects.service.js';
import { toUser } from '../../domain/users/users.service.js';
import { VERSION } from '../../package-info.js';
import { daemonUrl, listeningPort } from '../listening-port.js';
import { implement } from '../route-binding.js';

export const systemRoutes = [
  implement(routes.health, async () => ({ ok: true as const })),

  implement(routes.status, async ({ services, request }) => {
    const port = listeningPort(request.server) ?? services.config.port;
    let migrations = 0;
    let ok = true;
    try {
      migrations = await services.db.migrationCount();
    } catch {
      ok = false;
    }
    return {
      version: VERSION,
      started_at: services.startedAt.toISOString(),
      uptime_seconds: Math.floor((Date.now() - services.startedAt.getTime()) / 1000),
      url: daemonUrl(request.server, services.config),
      port,
      data_dir: services.config.home,
      db: { path: services.dbPath, ok, migrations },
      keychain: { backend: services.secrets.backend, description: services.secrets.description },
    };
  }),

  implement(routes.whoami, async ({ services, auth }) => {
    // An agent user (Pipelit) authenticates with its node's key and learns its node and prompt.
    const me = auth.kind === 'agent' && auth.via === 'agent_key' ? await services.agentUsers.forKey(auth.keyId) : null;
    if (me && auth.kind === 'agent') return services.agentUsers.whoami(me, auth.agent);
    return auth.kind === 'agent'
      ? {
          principal: 'agent' as const,
          via: auth.via,
          agent: toAgent(auth.agent),
          project: toProject(auth.project),
          scopes: auth.scopes,
          tools: await services.permissions.toolsFor(auth.agent, auth.claims?.tools ?? null),
          approval_required_tools: auth.agent.approval_required_tools,
          permissions_version: auth.agent.permissions_version,
        }
      : {
          principal: 'user' as const,
          via: auth.via,
          user: toUser(auth.user),
          project: toProject(auth.project),
          privilege: auth.privilege,
        };
  }),

  implement(routes.jwks, async ({ services }) => services.signer.jwks()),
];
