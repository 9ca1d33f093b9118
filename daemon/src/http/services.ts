import type { DaemonConfig } from '../config.js';
import type { AgentAuthService } from '../domain/agents/agent-auth.service.js';
import type { AgentKeysService } from '../domain/agents/agent-keys.service.js';
import type { AgentsService } from '../domain/agents/agents.service.js';
import type { ApprovalsService } from '../domain/agents/approvals.service.js';
import type { PermissionsService } from '../domain/agents/permissions.service.js';
import type { AuditFeed } from '../domain/audit/audit-feed.js';
import type { UsageRecorder } from '../domain/auth/usage-recorder.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import type { AuthorizationServer } from '../domain/oauth/authorization-server.js';
import type { AuthFailures } from '../domain/auth/auth-failures.js';
import type { MfaService } from '../domain/auth/mfa.service.js';
import type { PersonalTokensService } from '../domain/auth/personal-tokens.service.js';
import type { SessionsService } from '../domain/auth/sessions.service.js';
import type { TokenSigner } from '../domain/auth/token-signer.js';
import type { SdkKeysService } from '../domain/projects/sdk-keys.service.js';
import type { McpGatewayLoader } from '../domain/mcp/mcp-gateway-loader.js';
import type { McpServersService } from '../domain/mcp/mcp-servers.service.js';
import type { McpSupervisor } from '../domain/mcp/mcp-supervisor.js';
import type { OverviewService } from '../domain/overview/overview.service.js';
import type { ProjectsService } from '../domain/projects/projects.service.js';
import type { UsersService } from '../domain/users/users.service.js';
import type { AgentUsersService } from '../domain/workflows/agent-users.service.js';
import type { WorkflowGraphService } from '../domain/workflows/workflow-graph.service.js';
import type { WorkflowsService } from '../domain/workflows/workflows.service.js';
import type { CallAudit } from '../domain/connections/call-audit.js';
import type { ConnectionsService } from '../domain/connections/connections.service.js';
import type { ConnectionGrantsService } from '../domain/connections/connection-grants.service.js';
import type { UsageLimitsService } from '../domain/limits/usage-limits.service.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { Database } from '../storage/database.js';

/** Everything the HTTP layer calls into, built once at start-up (see daemon.ts). */
export interface Services {
  config: DaemonConfig;
  db: Database;
  dbPath: string;
  secrets: SecretStore;
  signer: TokenSigner;
  audit: AuditLog;
  users: UsersService;
  projects: ProjectsService;
  sdkKeys: SdkKeysService;
  sessions: SessionsService;
  mfa: MfaService;
  personalTokens: PersonalTokensService;
  agents: AgentsService;
  agentKeys: AgentKeysService;
  permissions: PermissionsService;
  approvals: ApprovalsService;
  workflows: WorkflowsService;
  /** The nodes and edges inside one workflow. */
  workflowGraph: WorkflowGraphService;
  agentUsers: AgentUsersService;
  /** Committed audit events, live, for `/v1/events`. */
  feed: AuditFeed;
  agentAuth: AgentAuthService;
  authFailures: AuthFailures;
  usage: UsageRecorder;
  /** The OAuth authorization server MCP clients get the gateway's tokens from. */
  oauth: AuthorizationServer;
  startedAt: Date;
  connections: ConnectionsService;
  /** Grants of connections, with the methods and paths each narrows its connection to. */
  connectionGrants: ConnectionGrantsService;
  /** Brokered calls' records, appended to the audit chain in batches. */
  callAudit: CallAudit;
  limits: UsageLimitsService;
  mcpServers: McpServersService;
  /** Live connections to the registered MCP servers. */
  mcpSupervisor: McpSupervisor;
  /** The MCP gateway behind `/mcp`. */
  mcpGateway: McpGatewayLoader;
  overview: OverviewService;
}
