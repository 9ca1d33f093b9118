import { routes, type RouteResult } from '@gatehouse/shared';
import { toAgent } from '../../domain/agents/agents.service.js';
import { toProject } from '../../domain/projects/projects.service.js';
import { toUser } from '../../domain/users/users.service.js';
import { VERSION } from '../../package-info.js';
import { keychainAdvice } from '../../secrets/secret-store.js';
import { daemonUrl, listeningPort } from '../listening-port.js';
import type { AgentAuthContext } from '../authenticate.js';
import { answerSerializer, implement, type SerializedAnswer } from '../route-binding.js';
import type { Services } from '../services.js';
import type { Database } from '../../storage/database.js';
import { WeakReadCache } from '../../storage/read-cache.js';

const serializeWhoami = answerSerializer(routes.whoami);

type WhoamiAnswers = WeakReadCache<object, SerializedAnswer<RouteResult<typeof routes.whoami>>>;
/** Each daemon's kept whoami answers, by its database (whose writes and recorded uses end them). */
const whoamiAnswers = new WeakMap<Database, WhoamiAnswers>();

/**
 * An agent's whoami answer, serialised. Agents ask on every call and the answer changes only
 * with a write, so it is kept per credential (the key's cached row, the token's cached claims)
 * while the database is unchanged: building and serialising it was a third of the request's time.
 * It shows `last_auth_at`, so a recorded use ends it too, and it reads that afresh: the cached
 * agent row outlives recorded uses.
 */
function agentWhoami(services: Services, auth: AgentAuthContext) {
  let answers = whoamiAnswers.get(services.db);
  if (!answers) whoamiAnswers.set(services.db, (answers = new WeakReadCache(services.db.withUseTimes)));
  const known = answers.known(auth.credential);
  if (known) return known.value;
  return answers.get(auth.credential, async () => {
    // An agent user (Pipelit) authenticates with its node's key and learns its node and prompt.
    const me = auth.via === 'agent_key' ? await services.agentUsers.forKey(auth.keyId) : null;
    if (me) return serializeWhoami(services.agentUsers.whoami(me, auth.agent));
    return serializeWhoami({
      principal: 'agent',
      via: auth.via,
      agent: { ...toAgent(auth.agent), last_auth_at: await services.agents.lastAuthAt(auth.agent.id) },
      project: toProject(auth.project),
      scopes: auth.scopes,
      tools: await services.permissions.toolsFor(auth.agent, auth.claims?.tools ?? null),
      approval_required_tools: auth.agent.approval_required_tools,
      permissions_version: auth.agent.permissions_version,
    });
  });
}

export const systemRoutes = [
  implement(routes.health, () => ({ ok: true as const })),

  implement(routes.status, async ({ services, request }) => {
    const port = listeningPort(request.server) ?? services.config.port;
    let migrations = 0;
    let ok = true;
    try {
      migrations = await services.db.migrationCount();
    } catch {
      ok = false;
    }
    const keychain = await services.secrets.health();
    return {
      version: VERSION,
      started_at: services.startedAt.toISOString(),
      uptime_seconds: Math.floor((Date.now() - services.startedAt.getTime()) / 1000),
      url: daemonUrl(request.server, services.config),
      port,
      data_dir: services.config.home,
      db: { path: services.dbPath, ok, migrations },
      keychain: {
        backend: services.secrets.backend,
        description: services.secrets.description,
        health: keychain.state,
        detail: keychain.state === 'ok' ? null : keychainAdvice[keychain.state],
      },
    };
  }),

  implement(routes.whoami, ({ services, auth }) =>
    auth.kind === 'agent'
      ? agentWhoami(services, auth)
      : {
          principal: 'user' as const,
          via: auth.via,
          user: toUser(auth.user),
          project: toProject(auth.project),
          privilege: auth.privilege,
        },
  ),

  implement(routes.jwks, async ({ services }) => services.signer.jwks()),
];
