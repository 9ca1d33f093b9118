import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  CreateMessageResultWithToolsSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  isInitializeRequest,
  isJSONRPCRequest,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  ReadResourceRequestSchema,
  RootsListChangedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolRequest,
  type CallToolResult,
  type ClientResult,
  type LoggingLevel,
  type Prompt,
  type RequestId,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent, AuthorizeResult } from '@gatehouse/shared';
import { sha256Hex } from '../credentials.js';
import { VERSION } from '../../package-info.js';
import type { AgentRow } from '../../storage/agent-entities.js';
import type { ProjectRow } from '../../storage/entities.js';
import type { Actor } from '../actor.js';
import type { ApprovalsService } from '../agents/approvals.service.js';
import type { PermissionsService } from '../agents/permissions.service.js';
import type { AuditFeed } from '../audit/audit-feed.js';
import type { CallAudit } from '../connections/call-audit.js';
import type { McpServerRow } from '../../storage/mcp-entities.js';
import { PostAnswer } from './post-answer.js';
import { honourCancellationOfRequestZero, numberRequestsFromOne } from './request-zero.js';
import type { McpSupervisor, RunningServer, UpstreamPeer, UpstreamRequestExtra } from './mcp-supervisor.js';

/** The agent behind one HTTP request to the gateway, authenticated by the HTTP layer. */
export interface GatewayCaller {
  agent: AgentRow;
  project: ProjectRow;
  /** The tool list of an agent token that carries one (narrower than the agent's); null otherwise. */
  tokenTools: string[] | null;
  actor: Actor;
  /**
   * The one server a per-server endpoint (`/mcp/<server>`) serves, whose tools and prompts it names
   * as the server does (no `<server>.` prefix); null on `/mcp`, which serves them all, prefixed.
   */
  server: string | null;
  /**
   * The permission model's verdict on each tool (`<server>.<tool>`) this request calls, taken when
   * the request was counted against the usage limits: a call is decided on it, not asked again
   * (a tool missing from it is asked for, so that a call is never decided on no verdict).
   */
  verdicts: ReadonlyMap<string, AuthorizeResult>;
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
  /** The caller of its latest request: whose permissions decide what reaches it unasked. */
  caller: GatewayCaller;
  /** The level it asked for with `logging/setLevel`; until then it gets every log message. */
  logLevel: LoggingLevel | null;
  /** The keys (see subscriptionKey) of the resources it subscribed to. */
  subscriptions: Set<string>;
  /** Which server each resource URI listed in this session came from, for `resources/read`. */
  resourceOwners: Map<string, string>;
  /** When its last request arrived, and how many of its requests are still being answered. */
  lastSeen: number;
  open: number;
  /** Its tool calls the gateway answers itself (see callDirectly), by request id. */
  direct: Map<RequestId, { answer: PostAnswer; controller: AbortController }>;
}

/** `sha256:<hex>` of a call's arguments, as JSON: what the audit chain and an approval hold of them. */
export const argumentsHash = (args: unknown): string => `sha256:${sha256Hex(JSON.stringify(args ?? {}))}`;

/** Audit events after which an agent may hold other tools. */
const PERMISSION_EVENT =
  /^(agent\.(tools_granted|tools_revoked|role_assigned|role_removed|approval_tools_set)|role\.|tool\.)/;

const refused = (message: string) => new McpError(ErrorCode.InvalidParams, message);

const LOG_LEVELS = LoggingLevelSchema.options;

/** One upstream subscription, shared by the sessions that subscribed to the same resource. */
interface Subscription {
  server: RunningServer;
  uri: string;
  sessions: Set<Session>;
}

const subscriptionKey = (serverId: string, uri: string) => `${serverId} ${uri}`;

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
export class McpGateway implements UpstreamPeer {
  private readonly sessions = new Map<string, Session>();
  /**
   * For each upstream server, the requests of agent sessions it is answering now. An upstream's
   * own request (sampling, elicitation, roots) is relayed to the session waiting on it: MCP ties
   * such a request to none of the client's, and one connection to the upstream serves every session.
   */
  private readonly waiting = new Map<string, Map<Extra, Session>>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly unsubscribe: () => void;
  private readonly sweeper: NodeJS.Timeout;
  /** The audit feed's unsubscribe, once a first session follows permission changes. */
  private following: Promise<() => void> | undefined;

  constructor(
    private readonly supervisor: McpSupervisor,
    private readonly permissions: PermissionsService,
    private readonly approvals: ApprovalsService,
    private readonly audit: CallAudit,
    private readonly feed: AuditFeed,
    private readonly approvalTimeoutSeconds: number,
    /** A session with no request for this long, and none still open, is ended. */
    private readonly sessionIdleMs: number,
  ) {
    // Clients often go away without ending their session (DELETE): those would be kept forever.
    this.sweeper = setInterval(() => void this.endIdleSessions(), Math.max(250, Math.min(60_000, sessionIdleMs / 2)));
    this.sweeper.unref();
    // A server's tools changed: every session may see a different list now.
    this.unsubscribe = supervisor.onToolsChanged(() => {
      for (const { server } of this.sessions.values()) void server.sendToolListChanged().catch(() => undefined);
    });
    supervisor.setPeer(this);
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
      if (!session || session.agentId !== caller.agent.id || session.caller.server !== caller.server)
        return jsonRpcError(response, 404, ErrorCode.InvalidRequest, 'Session not found: initialize a new one.');
      session.caller = caller;
      const call = loneToolCall(request, body);
      if (call) return this.callDirectly(session, sessionId, response, call);
      return this.answer(session, request, response, body);
    }
    if (request.method !== 'POST' || !isInitializeRequest(body))
      return jsonRpcError(response, 400, ErrorCode.InvalidRequest, 'No session: send initialize first.');
    const session = this.openSession(caller);
    await session.server.connect(session.transport);
    await this.answer(session, request, response, body);
  }

  private async answer(session: Session, request: IncomingMessage, response: ServerResponse, body: unknown) {
    track(session, response);
    await session.transport.handleRequest(request, response, body);
  }

  /**
   * A lone `tools/call` of an open session, answered without the SDK's server and transport (they
   * were most of the gateway's cost per call, bench B9): the same callTool — permissions, approval, audit, the
   * upstream call — with the request's own `extra`, whose messages to the agent (progress, the
   * upstream's requests, cancellations) the session's transport hands to this call's answer. The
   * answer is JSON unless something must go out before the response (see PostAnswer).
   */
  private async callDirectly(
    session: Session,
    sessionId: string,
    response: ServerResponse,
    call: CallToolRequest & { id: RequestId },
  ): Promise<void> {
    track(session, response);
    const { caller, server } = session;
    const answer = new PostAnswer(response, sessionId);
    const controller = new AbortController();
    session.direct.set(call.id, { answer, controller });
    const related = { relatedRequestId: call.id };
    const extra: Extra = {
      signal: controller.signal,
      requestId: call.id,
      sessionId,
      ...(call.params._meta ? { _meta: call.params._meta } : {}),
      sendNotification: (notification) => server.notification(notification, related),
      sendRequest: (request, schema, options) => server.request(request, schema, { ...options, ...related }),
    };
    try {
      const name = qualifiedName(caller, call.params.name);
      const result = await this.callTool(caller, session, name, call.params.arguments, extra);
      answer.end({ jsonrpc: '2.0', id: call.id, result });
    } catch (error) {
      if (controller.signal.aborted) return answer.cancel();
      // As the SDK's server answers a handler's error.
      const { code, message, data } = error as { code?: unknown; message?: string; data?: unknown };
      answer.end({
        jsonrpc: '2.0',
        id: call.id,
        error: {
          code: Number.isSafeInteger(code) ? (code as number) : ErrorCode.InternalError,
          message: message ?? 'Internal error',
          ...(data !== undefined ? { data } : {}),
        },
      });
    } finally {
      session.direct.delete(call.id);
    }
  }

  private async endIdleSessions(): Promise<void> {
    const before = Date.now() - this.sessionIdleMs;
    const idle = [...this.sessions].filter(([, session]) => session.open === 0 && session.lastSeen < before);
    for (const [id, session] of idle) this.forget(id, session);
    await Promise.all(idle.map(([, { server }]) => server.close().catch(() => undefined)));
  }

  /** Ends every session (the daemon is shutting down). */
  async close(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.sweeper);
    (await this.following)?.();
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.subscriptions.clear();
    await Promise.all(sessions.map(({ server }) => server.close().catch(() => undefined)));
  }

  /** A session is over: it is no longer served, and what only it subscribed to is unsubscribed upstream. */
  private forget(id: string, session: Session): void {
    if (this.sessions.get(id) === session) this.sessions.delete(id);
    for (const key of session.subscriptions) this.release(key, session);
    session.subscriptions.clear();
  }

  /**
   * A grant, a role or a tool changed: the sessions it concerns (the agent's, or all for a role or
   * a registry change) are told their tool list changed, so clients that keep the list ask again.
   */
  private permissionsChanged(events: AuditEvent[]): void {
    const changed = events.filter((event) => PERMISSION_EVENT.test(event.event_type));
    if (changed.length === 0) return;
    const everyone = changed.some((event) => !event.event_type.startsWith('agent.'));
    const agents = new Set(changed.map((event) => event.agent_id));
    for (const session of this.sessions.values())
      if (everyone || agents.has(session.agentId)) void session.server.sendToolListChanged().catch(() => undefined);
  }

  private openSession(caller: GatewayCaller): Session {
    this.following ??= this.feed.subscribe((events) => this.permissionsChanged(events));
    const server = new Server(
      { name: 'gatehouse', version: VERSION },
      {
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          logging: {},
        },
        instructions: 'Gatehouse: the tools this agent is granted, across the tool servers of its project.',
      },
    );
    honourCancellationOfRequestZero(server, (id, reason) => session.direct.get(id)?.controller.abort(reason));
    numberRequestsFromOne(server);
    const session: Session = {
      server,
      agentId: caller.agent.id,
      caller,
      logLevel: null,
      subscriptions: new Set(),
      resourceOwners: new Map(),
      lastSeen: Date.now(),
      open: 0,
      direct: new Map(),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => void this.sessions.set(id, session),
        onsessionclosed: (id) => this.forget(id, session),
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.forget(session.transport.sessionId, session);
    };
    // What the session's server sends about a call the gateway answers itself goes on that answer.
    const send = session.transport.send.bind(session.transport);
    session.transport.send = async (message, options) => {
      const id = options?.relatedRequestId;
      const direct = id === undefined ? undefined : session.direct.get(id);
      return direct ? direct.answer.send(message) : send(message, options);
    };
    server.setRequestHandler(ListToolsRequestSchema, async (_request, extra) => ({
      tools: await this.listTools(callerOf(extra)),
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) =>
      this.callTool(
        callerOf(extra),
        session,
        qualifiedName(callerOf(extra), request.params.name),
        request.params.arguments,
        extra,
      ),
    );
    server.setRequestHandler(ListPromptsRequestSchema, async (_request, extra) => ({
      prompts: await this.listPrompts(callerOf(extra)),
    }));
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const caller = callerOf(extra);
      const { server: upstream, name } = await this.serverFor(
        caller,
        qualifiedName(caller, request.params.name),
        'prompt',
      );
      return this.relayTo(upstream, session, extra, () =>
        upstream.client.getPrompt({ ...request.params, name }, this.relayOptions(extra)),
      );
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
    server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
      await this.subscribe(callerOf(extra), session, request.params.uri, extra);
      return {};
    });
    server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
      for (const key of session.subscriptions)
        if (this.subscriptions.get(key)?.uri === request.params.uri) this.release(key, session);
      return {};
    });
    server.setRequestHandler(SetLevelRequestSchema, async (request, extra) => {
      session.logLevel = request.params.level;
      await this.setUpstreamLogLevels(callerOf(extra));
      return {};
    });
    server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
      for (const upstream of await this.usableServers(session.caller))
        await upstream.client.sendRootsListChanged().catch(() => undefined);
    });
    return session;
  }

  // ── tools ─────────────────────────────────────────────────────────────────────────────

  private async listTools(caller: GatewayCaller): Promise<Tool[]> {
    const held = new Set(await this.permissions.toolsFor(caller.agent, caller.tokenTools));
    const tools: Tool[] = [];
    for (const server of this.supervisor.running(caller.project.id)) {
      if (caller.server !== null && server.row.name !== caller.server) continue;
      for (const tool of server.tools)
        if (held.has(`${server.row.name}.${tool.name}`))
          tools.push({ ...tool, name: exposedName(caller, server, tool.name) });
    }
    return tools;
  }

  private async callTool(
    caller: GatewayCaller,
    session: Session,
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

    const verdict =
      caller.verdicts.get(name) ?? (await this.permissions.authorize(caller.agent, name, caller.tokenTools));
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
    // Progress is passed on in order, and all of it before the result: a client drops progress
    // that arrives after the answer to its request.
    let forwarded: Promise<void> = Promise.resolve();
    try {
      const result = (await this.relayTo(server, session, extra, () =>
        server.client.callTool({ name: parts.upstream, arguments: args }, undefined, {
          signal: extra.signal,
          timeout: UPSTREAM_TIMEOUT_MS,
          resetTimeoutOnProgress: true,
          // The upstream's progress goes to the agent under the agent's own token.
          ...(progressToken !== undefined
            ? {
                onprogress: (progress) => {
                  forwarded = forwarded
                    .then(() =>
                      extra.sendNotification({
                        method: 'notifications/progress',
                        params: { ...progress, progressToken },
                      }),
                    )
                    .catch(() => undefined);
                },
              }
            : {}),
        }),
      )) as CallToolResult;
      await forwarded;
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
    return this.supervisor
      .running(caller.project.id)
      .filter(
        (server) => prefixes.has(server.row.name) && (caller.server === null || server.row.name === caller.server),
      );
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
        prompts.push({ ...prompt, name: exposedName(caller, server, prompt.name) });
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
        return await this.relayTo(server, session, extra, () =>
          server.client.readResource({ uri }, this.relayOptions(extra)),
        );
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  /**
   * Subscribes the session to a resource of the server that listed it (or of the only usable
   * server that offers subscriptions): one upstream subscription per resource, however many
   * sessions share it.
   */
  private async subscribe(caller: GatewayCaller, session: Session, uri: string, extra: Extra): Promise<void> {
    const usable = (await this.usableServers(caller)).filter(
      (server) => server.client.getServerCapabilities()?.resources?.subscribe,
    );
    const owner = session.resourceOwners.get(uri);
    const candidates = owner ? usable.filter((server) => server.row.name === owner) : usable;
    if (candidates.length !== 1) throw refused(`Unknown resource "${uri}": list the resources first.`);
    const [server] = candidates as [RunningServer];
    const key = subscriptionKey(server.row.id, uri);
    const existing = this.subscriptions.get(key);
    if (existing && existing.server.client === server.client) {
      existing.sessions.add(session);
    } else {
      await this.relayTo(server, session, extra, () =>
        server.client.subscribeResource({ uri }, this.relayOptions(extra)),
      );
      this.subscriptions.set(key, { server, uri, sessions: new Set([session]) });
    }
    session.subscriptions.add(key);
  }

  /** The session no longer follows the resource; the last one out unsubscribes upstream. */
  private release(key: string, session: Session): void {
    session.subscriptions.delete(key);
    const subscription = this.subscriptions.get(key);
    if (!subscription?.sessions.delete(session) || subscription.sessions.size > 0) return;
    this.subscriptions.delete(key);
    void subscription.server.client.unsubscribeResource({ uri: subscription.uri }).catch(() => undefined);
  }

  /**
   * An upstream's messages go out at the most verbose level that a session of its project which
   * may use it asked for; each session then gets those at or above its own level.
   */
  private async setUpstreamLogLevels(caller: GatewayCaller): Promise<void> {
    const levels = [...this.sessions.values()]
      .filter((session) => session.caller.project.id === caller.project.id && session.logLevel)
      .map((session) => LOG_LEVELS.indexOf(session.logLevel!));
    const level = LOG_LEVELS[Math.min(...levels)];
    if (!level) return;
    for (const server of await this.usableServers(caller))
      if (server.client.getServerCapabilities()?.logging)
        await server.client.setLoggingLevel(level).catch(() => undefined);
  }

  // ── what upstreams send on their own ──────────────────────────────────────────────────

  /** Runs a request to an upstream on behalf of a session, which meanwhile answers the upstream's own requests. */
  private async relayTo<T>(server: RunningServer, session: Session, extra: Extra, call: () => Promise<T>): Promise<T> {
    let waiting = this.waiting.get(server.row.id);
    if (!waiting) this.waiting.set(server.row.id, (waiting = new Map()));
    waiting.set(extra, session);
    try {
      return await call();
    } finally {
      waiting.delete(extra);
    }
  }

  /** Cancelling the agent's request cancels the upstream's; the upstream's progress reaches the agent. */
  private relayOptions(extra: Extra) {
    const progressToken = extra._meta?.progressToken;
    return {
      signal: extra.signal,
      ...(progressToken !== undefined
        ? {
            onprogress: (progress: { progress: number; total?: number; message?: string }) =>
              void extra
                .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })
                .catch(() => undefined),
          }
        : {}),
    };
  }

  /**
   * An upstream asks the agent something (sampling, elicitation, its roots) while it answers one
   * of the agent's requests: the question goes to that agent's client on the same stream, with
   * cancellation and progress relayed both ways. With no session waiting, or several (MCP does not
   * say which of them the question serves), it is refused rather than shown to the wrong agent.
   */
  async request(row: McpServerRow, request: ServerRequest, upstream: UpstreamRequestExtra): Promise<ClientResult> {
    const waiting = [...(this.waiting.get(row.id) ?? new Map<Extra, Session>())];
    const sessions = new Set(waiting.map(([, session]) => session));
    if (sessions.size !== 1)
      throw new McpError(
        ErrorCode.InternalError,
        sessions.size === 0
          ? `No agent session is waiting on ${row.name} to answer ${request.method}.`
          : `Several agent sessions are waiting on ${row.name}: ${request.method} cannot be given to one.`,
      );
    const [extra] = waiting.at(-1)!;
    const upstreamToken = request.params?._meta?.progressToken;
    const options = {
      signal: upstream.signal,
      ...(upstreamToken !== undefined
        ? {
            onprogress: (progress: { progress: number; total?: number; message?: string }) =>
              void upstream
                .sendNotification({
                  method: 'notifications/progress',
                  params: { ...progress, progressToken: upstreamToken },
                })
                .catch(() => undefined),
          }
        : {}),
    };
    switch (request.method) {
      case 'sampling/createMessage':
        return extra.sendRequest(
          request,
          request.params.tools ? CreateMessageResultWithToolsSchema : CreateMessageResultSchema,
          options,
        );
      case 'elicitation/create':
        return extra.sendRequest(request, ElicitResultSchema, options);
      case 'roots/list':
        return extra.sendRequest(request, ListRootsResultSchema, options);
      default:
        throw new McpError(ErrorCode.MethodNotFound, `Method not found: ${request.method}`);
    }
  }

  /**
   * An upstream's notification reaches the sessions it concerns: a resource update those that
   * subscribed to it, a log message and a changed list those whose agent may use that server.
   */
  notify(row: McpServerRow, notification: ServerNotification): void {
    const subscribers =
      notification.method === 'notifications/resources/updated'
        ? (this.subscriptions.get(subscriptionKey(row.id, notification.params.uri))?.sessions ?? new Set<Session>())
        : this.sessions.values();
    const level = notification.method === 'notifications/message' ? LOG_LEVELS.indexOf(notification.params.level) : 0;
    for (const session of subscribers) {
      if (session.caller.project.id !== row.project_id) continue;
      if (session.logLevel && level < LOG_LEVELS.indexOf(session.logLevel)) continue;
      void this.usableServers(session.caller)
        .then((usable) =>
          usable.some((server) => server.row.id === row.id) ? session.server.notification(notification) : undefined,
        )
        .catch(() => undefined);
    }
  }
}

/** Counts an HTTP request of the session as open until its response closes, written or cut. */
function track(session: Session, response: ServerResponse): void {
  session.lastSeen = Date.now();
  session.open += 1;
  response.once('close', () => {
    session.open -= 1;
    session.lastSeen = Date.now();
  });
}

/**
 * The `tools/call` of a POST that holds only that request, with headers the SDK's transport takes
 * as they are, and no task; null for anything else, which the SDK's transport answers (its errors included).
 */
function loneToolCall(request: IncomingMessage, body: unknown): (CallToolRequest & { id: RequestId }) | null {
  if (request.method !== 'POST' || !isJSONRPCRequest(body) || body.method !== 'tools/call') return null;
  const accept = request.headers.accept ?? '';
  const version = request.headers['mcp-protocol-version'];
  if (!accept.includes('application/json') || !accept.includes('text/event-stream')) return null;
  if (!isJsonContentType(request.headers['content-type'])) return null;
  if (version !== undefined && (typeof version !== 'string' || !SUPPORTED_PROTOCOL_VERSIONS.includes(version)))
    return null;
  const parsed = CallToolRequestSchema.safeParse(body);
  if (!parsed.success || parsed.data.params.task) return null;
  return { ...parsed.data, id: body.id };
}

/** How the endpoint of the caller names a server's tool or prompt: `<server>.<name>` on `/mcp`. */
function exposedName(caller: GatewayCaller, server: RunningServer, name: string): string {
  return caller.server === null ? `${server.row.name}.${name}` : name;
}

/** The Gatehouse name (`<server>.<name>`) of a tool or prompt the client named on its endpoint. */
function qualifiedName(caller: GatewayCaller, name: string): string {
  return caller.server === null ? name : `${caller.server}.${name}`;
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
