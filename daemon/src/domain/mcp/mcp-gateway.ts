import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  isInitializeRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type Prompt,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sha256Hex } from '../credentials.js';
import { VERSION } from '../../package-info.js';
import type { AgentRow } from '../../storage/agent-entities.js';
import type { ProjectRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { ApprovalsService } from '../agents/approvals.service.js';
import type { PermissionsService } from '../agents/permissions.service.js';
import type { CallAudit } from '../connections/call-audit.js';
import type { McpSupervisor, RunningServer } from './mcp-supervisor.js';

/** The agent behind one HTTP request to the gateway, authenticated by the HTTP layer. */
export interface GatewayCaller {
  agent: AgentRow;
  project: ProjectRow;
  /** The tool list of an agent token that carries one (narrower than the agent's); null otherwise. */
  tokenTools: string[] | null;
  actor: Actor;
}

/** How often a call waiting for approval looks at its request, and tells its client it still waits. */
const APPROVAL_POLL_MS = 250;
const APPROVAL_PROGRESS_MS = 1000;
/** How long an upstream call may go without progress before it fails. */
const UPSTREAM_TIMEOUT_MS = 5 * 60_000;
/** The longest part of the arguments shown to the approver (the inbox's summary holds 2000). */
const SUMMARY_ARGUMENTS_LENGTH = 1500;

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  agentId: string;
  /** Which server each resource URI listed in this session came from, for `resources/read`. */
  resourceOwners: Map<string, string>;
}

/** `sha256:<hex>` of a call's arguments, as JSON: what the audit chain and an approval hold of them. */
export const argumentsHash = (args: unknown): string => `sha256:${sha256Hex(JSON.stringify(args ?? {}))}`;

const refused = (message: string) => new McpError(ErrorCode.InvalidParams, message);

/** `<server>.<name>` → its parts, split at the first dot (server names hold none). */
function splitName(name: string): { server: string; upstream: string } | null {
  const dot = name.indexOf('.');
  return dot > 0 ? { server: name.slice(0, dot), upstream: name.slice(dot + 1) } : null;
}

/**
 * The MCP gateway (`/mcp`): one Streamable HTTP MCP server per agent session, serving the tools
 * the agent may use across its project's running tool servers as `<server>.<tool>`. Every HTTP
 * request is authenticated before it gets here, and every `tools/call` asks the permission model
 * again, so a suspension, a revocation or a revoked grant refuses the very next call of a session
 * already open. Approval-required tools wait in the approvals inbox, with progress notifications,
 * for a human's decision on that one call. Each call is audited with a hash of its arguments.
 */
export class McpGateway {
  private readonly sessions = new Map<string, Session>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly supervisor: McpSupervisor,
    private readonly permissions: PermissionsService,
    private readonly approvals: ApprovalsService,
    private readonly audit: CallAudit,
    private readonly approvalTimeoutSeconds: number,
  ) {
    // A server's tools changed: every session may see a different list now.
    this.unsubscribe = supervisor.onToolsChanged(() => {
      for (const { server } of this.sessions.values()) void server.sendToolListChanged().catch(() => undefined);
    });
  }

  /** Answers one HTTP request of the Streamable HTTP transport (POST, GET or DELETE). */
  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    body: unknown,
    caller: GatewayCaller,
  ): Promise<void> {
    // The SDK hands `auth` to each request handler as `extra.authInfo`: the caller of that request.
    const authInfo: AuthInfo = { token: '', clientId: caller.agent.id, scopes: [], extra: { caller } };
    Object.assign(request, { auth: authInfo });
    const sessionId = request.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId);
      // Another agent's session is as unknown to this one as a session that never was.
      if (!session || session.agentId !== caller.agent.id)
        return jsonRpcError(response, 404, ErrorCode.InvalidRequest, 'Session not found: initialize a new one.');
      return session.transport.handleRequest(request, response, body);
    }
    if (request.method !== 'POST' || !isInitializeRequest(body))
      return jsonRpcError(response, 400, ErrorCode.InvalidRequest, 'No session: send initialize first.');
    const session = this.openSession(caller.agent.id);
    await session.server.connect(session.transport);
    await session.transport.handleRequest(request, response, body);
  }

  /** Ends every session (the daemon is shutting down). */
  async close(): Promise<void> {
    this.unsubscribe();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(sessions.map(({ server }) => server.close().catch(() => undefined)));
  }

  private openSession(agentId: string): Session {
    const server = new Server(
      { name: 'gatehouse', version: VERSION },
      {
        capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} },
        instructions: 'Gatehouse: the tools this agent is granted, across the tool servers of its project.',
      },
    );
    const session: Session = {
      server,
      agentId,
      resourceOwners: new Map(),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => void this.sessions.set(id, session),
        onsessionclosed: (id) => void this.sessions.delete(id),
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.sessions.delete(session.transport.sessionId);
    };
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
      tools: await this.listTools(callerOf(extra)),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) =>
      this.callTool(callerOf(extra), request.params.name, request.params.arguments, extra),
    );
    server.setRequestHandler(ListPromptsRequestSchema, async (_request, extra) => ({
      prompts: await this.listPrompts(callerOf(extra)),
    }));
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const { server: upstream, name } = await this.serverFor(callerOf(extra), request.params.name, 'prompt');
      return upstream.client.getPrompt({ ...request.params, name }, { signal: extra.signal });
    });
    server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => ({
      resources: await this.listResources(callerOf(extra), session),
    }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => ({
      resourceTemplates: await this.listResourceTemplates(callerOf(extra)),
    }));
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) =>
      this.readResource(callerOf(extra), session, request.params.uri, extra),
    );
    return session;
  }

  // ── tools ─────────────────────────────────────────────────────────────────────────────

  private async listTools(caller: GatewayCaller): Promise<Tool[]> {
    const held = new Set(await this.permissions.toolsFor(caller.agent, caller.tokenTools));
    const tools: Tool[] = [];
    for (const server of this.supervisor.running(caller.project.id))
      for (const tool of server.tools) {
        const name = `${server.row.name}.${tool.name}`;
        if (held.has(name)) tools.push({ ...tool, name });
      }
    return tools;
  }

  private async callTool(
    caller: GatewayCaller,
    name: string,
    args: Record<string, unknown> | undefined,
    extra: Extra,
  ): Promise<CallToolResult> {
    const started = performance.now();
    const hash = argumentsHash(args);
    const parts = splitName(name);
    const record = (result: string, details: Record<string, unknown> = {}) =>
      this.audit.record({
        event_type: 'mcp.tool_call',
        actor: caller.actor,
        outcome: result === 'ok' ? 'success' : 'failure',
        agent_id: caller.agent.id,
        project_id: caller.project.id,
        target: `tool:${name.slice(0, 200)}`,
        metadata: {
          server: parts?.server ?? null,
          arguments_hash: hash,
          result,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
          ...details,
        },
      });

    const verdict = await this.permissions.authorize(caller.agent, name, caller.tokenTools);
    if (!verdict.allowed && !verdict.approval_required) {
      record(verdict.reason);
      throw refused(`Tool "${name}" is not available to this agent (${verdict.reason}).`);
    }
    const server = parts ? this.supervisor.runningServer(caller.project.id, parts.server) : null;
    if (!parts || !server || !server.tools.some((tool) => tool.name === parts.upstream)) {
      record('server_unavailable');
      throw new McpError(ErrorCode.InternalError, `The tool server of "${name}" is not running.`);
    }

    let approvalId: string | undefined;
    if (verdict.approval_required) {
      const decision = await this.awaitApproval(caller, name, args, hash, extra);
      approvalId = decision.id;
      if (decision.status !== 'approved') {
        record(`approval_${decision.status}`, { approval_id: approvalId });
        throw refused(
          decision.status === 'denied'
            ? `A human denied this call of "${name}"${decision.note ? `: ${decision.note}` : '.'}`
            : decision.status === 'cancelled'
              ? `The call of "${name}" was cancelled while it waited for approval.`
              : `No human approved this call of "${name}" in time.`,
        );
      }
    }

    const progressToken = extra._meta?.progressToken;
    try {
      const result = (await server.client.callTool({ name: parts.upstream, arguments: args }, undefined, {
        signal: extra.signal,
        timeout: UPSTREAM_TIMEOUT_MS,
        resetTimeoutOnProgress: true,
        // The upstream's progress goes to the agent under the agent's own token.
        ...(progressToken !== undefined
          ? {
              onprogress: (progress) =>
                void extra
                  .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })
                  .catch(() => undefined),
            }
          : {}),
      })) as CallToolResult;
      record(result.isError ? 'tool_error' : 'ok', approvalId ? { approval_id: approvalId } : {});
      return result;
    } catch (error) {
      const cancelled = extra.signal.aborted;
      record(cancelled ? 'cancelled' : 'upstream_failed', approvalId ? { approval_id: approvalId } : {});
      // The upstream's own error answers pass through; losing the upstream is the gateway's to say.
      const lostUpstream =
        !(error instanceof McpError) ||
        error.code === ErrorCode.ConnectionClosed ||
        error.code === ErrorCode.RequestTimeout;
      if (!cancelled && !lostUpstream) throw error;
      throw new McpError(
        ErrorCode.InternalError,
        cancelled ? 'Cancelled.' : `The tool server of "${name}" failed: ${(error as Error).message.slice(0, 300)}`,
      );
    }
  }

  /**
   * Puts this one call in the approvals inbox — the tool, its arguments for the approver, and
   * their hash — and waits for the decision, telling the client it waits with progress
   * notifications when it asked for them.
   */
  private async awaitApproval(
    caller: GatewayCaller,
    tool: string,
    args: Record<string, unknown> | undefined,
    hash: string,
    extra: Extra,
  ): Promise<{ id: string; status: 'approved' | 'denied' | 'expired' | 'cancelled'; note: string | null }> {
    const shown = JSON.stringify(args ?? {});
    const summary = `MCP call of ${tool} with arguments ${
      shown.length > SUMMARY_ARGUMENTS_LENGTH ? `${shown.slice(0, SUMMARY_ARGUMENTS_LENGTH)}… (cut)` : shown
    } (${hash})`;
    const approval = await this.approvals.request(
      caller.agent,
      {
        tool,
        summary,
        idempotency_key: `mcp-call:${randomUUID()}`,
        expires_in_seconds: this.approvalTimeoutSeconds,
      },
      caller.tokenTools,
      caller.actor,
    );
    const progressToken = extra._meta?.progressToken;
    const since = Date.now();
    let lastProgress = 0;
    for (;;) {
      const current = await this.approvals.get(approval.id, caller.project.id);
      if (current.status !== 'pending')
        return { id: approval.id, status: current.status, note: current.decision_note ?? null };
      if (extra.signal.aborted) return { id: approval.id, status: 'cancelled', note: null };
      const waited = Date.now() - since;
      if (progressToken !== undefined && waited - lastProgress >= APPROVAL_PROGRESS_MS) {
        lastProgress = waited;
        await extra
          .sendNotification({
            method: 'notifications/progress',
            params: {
              progressToken,
              progress: Math.floor(waited / 1000),
              total: this.approvalTimeoutSeconds,
              message: `Waiting for a human to approve ${tool} in the Gatehouse approvals inbox`,
            },
          })
          .catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, APPROVAL_POLL_MS));
    }
  }

  // ── prompts and resources: passed through for the servers the agent may use at all ─────

  /** The running servers of which the agent holds at least one tool. */
  private async usableServers(caller: GatewayCaller): Promise<RunningServer[]> {
    const held = await this.permissions.toolsFor(caller.agent, caller.tokenTools);
    const prefixes = new Set(held.map((tool) => splitName(tool)?.server));
    return this.supervisor.running(caller.project.id).filter((server) => prefixes.has(server.row.name));
  }

  private async serverFor(caller: GatewayCaller, qualified: string, kind: string) {
    const parts = splitName(qualified);
    const server = parts && (await this.usableServers(caller)).find((s) => s.row.name === parts.server);
    if (!parts || !server) throw refused(`Unknown ${kind} "${qualified}".`);
    return { server, name: parts.upstream };
  }

  private async listPrompts(caller: GatewayCaller): Promise<Prompt[]> {
    const prompts: Prompt[] = [];
    for (const server of await this.usableServers(caller)) {
      if (!server.client.getServerCapabilities()?.prompts) continue;
      for (const prompt of await pages<'prompts', Prompt>((cursor) => server.client.listPrompts(cursor), 'prompts'))
        prompts.push({ ...prompt, name: `${server.row.name}.${prompt.name}` });
    }
    return prompts;
  }

  private async listResources(caller: GatewayCaller, session: Session): Promise<Resource[]> {
    const resources: Resource[] = [];
    for (const server of await this.usableServers(caller)) {
      if (!server.client.getServerCapabilities()?.resources) continue;
      for (const resource of await pages<'resources', Resource>(
        (cursor) => server.client.listResources(cursor),
        'resources',
      )) {
        session.resourceOwners.set(resource.uri, server.row.name);
        resources.push(resource);
      }
    }
    return resources;
  }

  private async listResourceTemplates(caller: GatewayCaller): Promise<ResourceTemplate[]> {
    const templates: ResourceTemplate[] = [];
    for (const server of await this.usableServers(caller)) {
      if (!server.client.getServerCapabilities()?.resources) continue;
      templates.push(
        ...(await pages<'resourceTemplates', ResourceTemplate>(
          (cursor) => server.client.listResourceTemplates(cursor),
          'resourceTemplates',
        )),
      );
    }
    return templates;
  }

  /** Reads from the server that listed the URI, or else from each usable server until one has it. */
  private async readResource(caller: GatewayCaller, session: Session, uri: string, extra: Extra) {
    const usable = (await this.usableServers(caller)).filter(
      (server) => server.client.getServerCapabilities()?.resources,
    );
    const owner = session.resourceOwners.get(uri);
    const ordered = owner ? usable.filter((server) => server.row.name === owner) : usable;
    let lastError: unknown = refused(`Unknown resource "${uri}".`);
    for (const server of ordered) {
      try {
        return await server.client.readResource({ uri }, { signal: extra.signal });
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}

/** Every page of a paginated list. */
async function pages<K extends string, T>(
  list: (params: { cursor?: string }) => Promise<{ nextCursor?: string } & Record<K, T[]>>,
  key: K,
): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor ? { cursor } : {});
    items.push(...page[key]);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

function callerOf(extra: Extra): GatewayCaller {
  const caller = extra.authInfo?.extra?.caller as GatewayCaller | undefined;
  // Unreachable through /mcp, which authenticates every request before the transport sees it.
  if (!caller) throw new McpError(ErrorCode.InvalidRequest, 'Unauthenticated.');
  return caller;
}

function jsonRpcError(response: ServerResponse, status: number, code: number, message: string): void {
  response
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}
