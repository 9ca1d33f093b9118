import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import {
  DEFAULT_MCP_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_MCP_SESSION_IDLE_SECONDS,
  redactedDatabaseUrl,
  type DaemonConfig,
} from './config.js';
import { claimDiscovery, DB_FILE, removeDiscovery, writeDiscovery } from './home.js';
import { AgentAuthService } from './domain/agents/agent-auth.service.js';
import { AgentKeysService } from './domain/agents/agent-keys.service.js';
import { ApprovalsService } from './domain/agents/approvals.service.js';
import { PermissionsService } from './domain/agents/permissions.service.js';
import { AuditFeed } from './domain/audit/audit-feed.js';
import { UsageRecorder } from './domain/auth/usage-recorder.js';
import { AuthFailures } from './domain/auth/auth-failures.js';
import { AgentsService } from './domain/agents/agents.service.js';
import { reconcileKeychain } from './domain/keychain-reconciliation.js';
import { AuditLog } from './domain/audit/audit-log.js';
import { MfaService } from './domain/auth/mfa.service.js';
import { PersonalTokensService } from './domain/auth/personal-tokens.service.js';
import { SessionsService } from './domain/auth/sessions.service.js';
import { TokenSigner } from './domain/auth/token-signer.js';
import { AuthorizationServer } from './domain/oauth/authorization-server.js';
import { SdkKeysService } from './domain/projects/sdk-keys.service.js';
import { McpGatewayLoader } from './domain/mcp/mcp-gateway-loader.js';
import { McpServersService } from './domain/mcp/mcp-servers.service.js';
import { McpSupervisor } from './domain/mcp/mcp-supervisor.js';
import { OverviewService } from './domain/overview/overview.service.js';
import { ProjectsService } from './domain/projects/projects.service.js';
import { UsersService } from './domain/users/users.service.js';
import { AgentUsersService } from './domain/workflows/agent-users.service.js';
import { WorkflowGraphService } from './domain/workflows/workflow-graph.service.js';
import { WorkflowsService } from './domain/workflows/workflows.service.js';
import { CallAudit } from './domain/connections/call-audit.js';
import { ConnectionsService } from './domain/connections/connections.service.js';
import { ConnectionGrantsService } from './domain/connections/connection-grants.service.js';
import { UsageLimitsService } from './domain/limits/usage-limits.service.js';
import { StartupError } from './errors.js';
import { buildApp } from './http/app.js';
import { listeningPort } from './http/listening-port.js';
import type { Services } from './http/services.js';
import { createLogger } from './logging.js';
import { DatabaseSecretStore } from './secrets/database-store.js';
import { openSecretStore } from './secrets/open-secret-store.js';
import type { SecretStore } from './secrets/secret-store.js';
import { Database } from './storage/database.js';
import { SealedSecretRows } from './storage/sealed-secret-rows.js';
import { VERSION } from './package-info.js';

const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningDaemon {
  url: string;
  port: number;
  app: FastifyInstance;
  services: Services;
  logFile: string;
  /** Stops accepting, finishes in-flight requests, closes the database, removes `daemon.json`. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Injects a secret store (tests of other layers); the configured one is opened otherwise. */
  secrets?: SecretStore;
}

/** Starts gatehoused. Every expected failure is a `StartupError` with a one-line message. */
export async function startDaemon(config: DaemonConfig, options: StartOptions = {}): Promise<RunningDaemon> {
  // V8 may decide early, by chance, to allocate a request's short-lived objects straight in the
  // old generation (allocation-site pretenuring); a daemon where it did answered a quarter fewer
  // requests and its memory swung by 100 MB (about one start in four under B1's load). The
  // daemon keeps few long-lived objects to gain from it.
  setFlagsFromString('--no-allocation-site-pretenuring');
  ensureWritable(config.home);
  const { replacedStale } = await claimDiscovery(config.home);
  const log = await createLogger(config.home, {
    level: config.logLevel,
    maxSize: config.logMaxSize,
    maxFiles: config.logMaxFiles,
  });
  if (replacedStale) log.logger.warn('replaced a stale daemon.json left by a process that is gone');

  let db: Database | undefined;
  try {
    const dbPath = config.databaseUrl ? redactedDatabaseUrl(config.databaseUrl) : join(config.home, DB_FILE);
    db = await Database.open(config.databaseUrl ? { postgres: config.databaseUrl } : { sqlite: dbPath }).catch(
      (error: Error) => {
        throw new StartupError(`Cannot open the database ${dbPath}: ${error.message}`);
      },
    );
    const secrets = options.secrets ?? (await openSecretStore(config, new SealedSecretRows(db)));
    if (secrets instanceof DatabaseSecretStore && secrets.rewrapped > 0) {
      log.logger.info(`re-wrapped ${secrets.rewrapped} data keys under key-encryption key ${config.kek!.id}`);
    }
    const signer = await TokenSigner.load(db, secrets, (reason) =>
      log.logger.warn(`made a new token-signing key: ${reason}`),
    );
    const audit = new AuditLog(db);
    const mfa = new MfaService(db, audit, secrets);
    const agentKeys = new AgentKeysService(db, audit, secrets, config.keychainService);
    const authFailures = new AuthFailures(db, audit);
    const usage = new UsageRecorder(db);
    const permissions = new PermissionsService(db, audit);
    const agents = new AgentsService(db, audit, secrets, agentKeys, permissions);
    const approvals = new ApprovalsService(db, audit, permissions);
    await approvals.start();
    const agentAuth = new AgentAuthService(db, audit, signer, agentKeys, authFailures, usage, permissions);
    await agentAuth.loadRevokedSessions();
    const limits = new UsageLimitsService(db, audit, agents, (error) =>
      log.logger.error({ err: error }, 'usage counters not saved'),
    );
    await limits.start();
    await reconcileKeychain(db, secrets, audit).then(
      (changed) => log.logger.info(changed, 'keychain reconciled with the database'),
      (error: Error) => log.logger.warn(`keychain not reconciled at start: ${error.message}`),
    );
    const agentUsers = new AgentUsersService(db, audit, secrets, agentKeys, mfa);
    const workflows = new WorkflowsService(db, audit, agentUsers);
    const mcpSupervisor = new McpSupervisor(db, secrets, log.logger, permissions);
    // Brokered calls and MCP tool calls: audited in batches, not with a transaction per call.
    const feed = new AuditFeed(db);
    const callAudit = new CallAudit(db, audit, (error) => log.logger.error({ err: error }, 'calls not audited'));
    const services: Services = {
      config,
      db,
      dbPath,
      secrets,
      signer,
      audit,
      mfa,
      users: new UsersService(db, audit, secrets),
      projects: new ProjectsService(db, audit),
      sdkKeys: new SdkKeysService(db, audit, usage),
      sessions: new SessionsService(db, audit, signer, mfa, authFailures),
      personalTokens: new PersonalTokensService(db, audit, usage),
      agents,
      permissions,
      approvals,
      workflows,
      workflowGraph: new WorkflowGraphService(db, audit, agents, agentUsers, workflows),
      agentUsers,
      feed,
      agentKeys,
      agentAuth,
      authFailures,
      usage,
      oauth: new AuthorizationServer({
        db,
        secrets,
        audit,
        agents,
        agentAuth,
        authFailures,
        metadataDocumentHosts: config.oauthMetadataHosts ?? [],
      }),
      startedAt: new Date(),
      connections: new ConnectionsService(db, audit, secrets, permissions),
      connectionGrants: new ConnectionGrantsService(db, audit, permissions),
      limits,
      callAudit,
      mcpServers: new McpServersService(db, audit, secrets, mcpSupervisor, permissions),
      mcpSupervisor,
      mcpGateway: new McpGatewayLoader(
        ({ McpGateway }) =>
          new McpGateway(
            mcpSupervisor,
            permissions,
            approvals,
            callAudit,
            feed,
            config.mcpApprovalTimeoutSeconds ?? DEFAULT_MCP_APPROVAL_TIMEOUT_SECONDS,
            (config.mcpSessionIdleSeconds ?? DEFAULT_MCP_SESSION_IDLE_SECONDS) * 1000,
          ),
      ),
      overview: new OverviewService(db),
    };

    const app = await buildApp(services, log);
    await app.listen({ host: config.host, port: config.port }).catch(async (error: NodeJS.ErrnoException) => {
      await app.close();
      if (error.code === 'EADDRINUSE') {
        throw new StartupError(
          `Port ${config.port} is already in use. Stop the other program, or start with --port <n> (0 picks a free port).`,
        );
      }
      if (error.code === 'EACCES')
        throw new StartupError(`Not allowed to listen on port ${config.port}; choose a port above 1023.`);
      throw error;
    });

    const port = listeningPort(app)!;
    const url = `${config.tls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    writeDiscovery(config.home, {
      pid: process.pid,
      port,
      url,
      version: VERSION,
      startedAt: services.startedAt.toISOString(),
    });
    log.logger.info({ url, home: config.home, secrets: secrets.description }, 'gatehoused started');
    await mcpSupervisor.startAll();

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        // In-flight requests get a grace period; connections still open after it are cut.
        const grace = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        await services.mcpGateway.close();
        await app.close();
        clearTimeout(grace);
        // Stdio tool servers are the daemon's children: they stop with it.
        await mcpSupervisor.stopAll();
        approvals.stop();
        await usage.close();
        await services.callAudit.close();
        await limits.close();
        await db!.close();
        removeDiscovery(config.home);
        log.logger.info('gatehoused stopped');
        log.flush();
      })());
    return { url, port, app, services, logFile: log.file, close };
  } catch (error) {
    await db?.close().catch(() => undefined);
    log.flush();
    throw error;
  }
}

function ensureWritable(home: string): void {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    accessSync(home, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new StartupError(
      `The data directory ${home} cannot be written (${code}). Choose another with --home or GATEHOUSE_HOME.`,
    );
  }
}
