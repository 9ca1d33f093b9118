import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  ClientCapabilities,
  ClientNotification,
  ClientRequest,
  ClientResult,
  ServerNotification,
  ServerRequest,
  Tool as UpstreamTool,
} from '@modelcontextprotocol/sdk/types.js';
import type { DiscoveredTool, ServerStatus } from '@gatehouse/shared';
import type { Logger } from 'pino';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { In } from 'typeorm';
import { VERSION } from '../../package-info.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { Database } from '../../storage/database.js';
import { McpServerEntity, type McpServerRow } from '../../storage/mcp-entities.js';
import { ToolEntity } from '../../storage/permission-entities.js';
import { systemActor } from '../actor.js';
import type { PermissionsService } from '../agents/permissions.service.js';
import { honourCancellationOfRequestZero } from './request-zero.js';

/** Restart delays after a failure: doubling from the first, capped at the last. */
export const RESTART_BACKOFF = { firstMs: 500, maxMs: 30_000 } as const;
/** How long a server has to answer `initialize` and `tools/list` before it counts as failed. */
const CONNECT_TIMEOUT_MS = 20_000;
/** Upstream tool names that can be Gatehouse tool names (see RegisteredToolName). */
const TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
/** The SDK, loaded when a server first starts (see mcp-client-sdk.ts). */
const sdk = () => import('./mcp-client-sdk.js');

/**
 * What the daemon's client tells each upstream it can do: everything an agent's client may do, so
 * that the upstream offers all it has. The gateway relays each such request to the agent's session,
 * whose own client's capabilities then decide (an agent without sampling gets the SDK's error).
 */
const UPSTREAM_CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

/** The `extra` of a request an upstream sends to the daemon's client. */
export type UpstreamRequestExtra = RequestHandlerExtra<ClientRequest, ClientNotification>;

/**
 * Who answers what an upstream sends on its own (the gateway): its requests for an agent
 * (sampling, elicitation, roots) and its notifications (resources, prompts, log messages).
 */
export interface UpstreamPeer {
  request(server: McpServerRow, request: ServerRequest, extra: UpstreamRequestExtra): Promise<ClientResult>;
  notify(server: McpServerRow, notification: ServerNotification): void;
}

/**
 * The daemon's live connections to the registered MCP servers: stdio servers are child processes
 * it starts, supervises (restart with backoff) and stops with itself; http servers are upstream
 * URLs. Whatever a server does — fail to start, die, answer garbage — ends up as its status and
 * last error, never as an exception out of here.
 */
export class McpSupervisor {
  private readonly links = new Map<string, ServerLink>();
  private readonly toolListeners = new Set<(serverId: string) => void>();
  private peer: UpstreamPeer | null = null;

  constructor(
    private readonly db: Database,
    private readonly secrets: SecretStore,
    private readonly logger: Logger,
    private readonly permissions: PermissionsService,
  ) {}

  /** Starts every enabled server; called once the daemon listens. */
  async startAll(): Promise<void> {
    const rows = await this.db.manager.find(McpServerEntity, { where: { enabled: true } });
    for (const row of rows) this.start(row);
  }

  /** (Re)starts the link of `row` with its current settings. */
  start(row: McpServerRow): void {
    void this.links.get(row.id)?.stop();
    if (!row.enabled) {
      this.links.delete(row.id);
      void this.setStatus(row.id, 'stopped', null);
      return;
    }
    const link = new ServerLink(row, this);
    this.links.set(row.id, link);
    link.connect();
  }

  async stop(serverId: string): Promise<void> {
    const link = this.links.get(serverId);
    this.links.delete(serverId);
    await link?.stop();
  }

  async stopAll(): Promise<void> {
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.stop()));
  }

  /** The running servers of a project, for the gateway: their clients and upstream tool definitions. */
  running(projectId: string): RunningServer[] {
    const found: RunningServer[] = [];
    for (const link of this.links.values()) {
      const client = link.connectedClient;
      if (client && link.row.project_id === projectId) found.push({ row: link.row, client, tools: link.upstreamTools });
    }
    return found;
  }

  /** The running server `name` of a project, or null (unknown, of another project, or down). */
  runningServer(projectId: string, name: string): RunningServer | null {
    return this.running(projectId).find((server) => server.row.name === name) ?? null;
  }

  /** Calls `listener` whenever a server's tool list changes; returns the unsubscribe function. */
  onToolsChanged(listener: (serverId: string) => void): () => void {
    this.toolListeners.add(listener);
    return () => this.toolListeners.delete(listener);
  }

  /** Sets who answers the upstreams' own requests and receives their notifications. */
  setPeer(peer: UpstreamPeer): void {
    this.peer = peer;
  }

  /** @internal for ServerLink */
  async relayRequest(row: McpServerRow, request: ServerRequest, extra: UpstreamRequestExtra): Promise<ClientResult> {
    if (!this.peer) {
      const { McpError, ErrorCode } = await sdk();
      throw new McpError(ErrorCode.MethodNotFound, `No agent can answer ${request.method}.`);
    }
    return this.peer.request(row, request, extra);
  }

  /** @internal for ServerLink */
  relayNotification(row: McpServerRow, notification: ServerNotification): void {
    this.peer?.notify(row, notification);
  }

  /** @internal for ServerLink */
  toolsChanged(serverId: string): void {
    for (const listener of this.toolListeners) listener(serverId);
  }

  /** @internal for ServerLink */
  get log(): Logger {
    return this.logger;
  }

  /** @internal the environment of a stdio server, secrets read from the keychain at each start. */
  async environment(row: McpServerRow): Promise<Record<string, string>> {
    const env: Record<string, string> = { ...(await sdk()).getDefaultEnvironment(), ...row.env };
    for (const [name, account] of Object.entries(row.secret_accounts)) {
      const value = await this.secrets.get(account);
      if (value === null) throw new Error(`the secret environment variable ${name} is missing from the keychain`);
      env[name] = value;
    }
    return env;
  }

  /** @internal the headers an http upstream expects its credential in. */
  async headers(row: McpServerRow): Promise<Record<string, string>> {
    if (!row.credential_account) return {};
    const credential = await this.secrets.get(row.credential_account);
    if (credential === null) throw new Error('the upstream credential is missing from the keychain');
    return row.credential_header ? { [row.credential_header]: credential } : { authorization: `Bearer ${credential}` };
  }

  /** @internal */
  async setStatus(serverId: string, status: ServerStatus, lastError: string | null): Promise<void> {
    await this.db
      .write((tx) =>
        tx.update(
          McpServerEntity,
          { id: serverId },
          { status, last_error: lastError, updated_at: new Date().toISOString() },
        ),
      )
      .catch((error: Error) => this.logger.error({ err: error, server: serverId }, 'could not record a server status'));
  }

  /**
   * @internal Records what the server offers now: its row's tool list, and the tool registry's
   * `<server>.*` entries, so grants and approval-required settings apply to them unchanged.
   */
  async recordTools(row: McpServerRow, upstream: UpstreamTool[]): Promise<DiscoveredTool[]> {
    const tools = upstream
      .filter((tool) => TOOL_NAME.test(tool.name) && row.name.length + 1 + tool.name.length <= 128)
      .map((tool) => ({
        name: `${row.name}.${tool.name}`,
        upstream_name: tool.name,
        description: tool.description?.slice(0, 2000) ?? null,
      }));
    const skipped = upstream.length - tools.length;
    if (skipped > 0)
      this.logger.warn({ server: row.name, skipped }, 'MCP server tools with unusable names were skipped');
    await this.db.write(async (tx) => {
      const now = new Date().toISOString();
      const registered = (await tx.find(ToolEntity)).filter((tool) => tool.name.startsWith(`${row.name}.`));
      const kept = new Set(tools.map((tool) => tool.name));
      const gone = registered.map((tool) => tool.name).filter((name) => !kept.has(name));
      const known = new Set(registered.map((tool) => tool.name));
      const added = tools.filter((tool) => !known.has(tool.name));
      if (gone.length > 0) await tx.delete(ToolEntity, { name: In(gone) });
      if (added.length > 0)
        await tx.insert(
          ToolEntity,
          added.map((tool) => ({ name: tool.name, description: tool.description, created_at: now })),
        );
      const changed = [...gone, ...added.map((tool) => tool.name)];
      await this.permissions.registryChanged(tx, changed, { ...systemActor, label: `mcp-server:${row.name}` });
      await tx.update(McpServerEntity, { id: row.id }, { tools, status: 'running', last_error: null, updated_at: now });
    });
    return tools;
  }
}

export interface RunningServer {
  row: McpServerRow;
  client: Client;
  /** The upstream's own definitions of the tools it offers (names without the server prefix). */
  tools: UpstreamTool[];
}

/** One server's connection: connect, discover, and on any failure wait and connect again. */
class ServerLink {
  private client: Client | null = null;
  private connected = false;
  private stopped = false;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  tools: DiscoveredTool[] = [];
  upstreamTools: UpstreamTool[] = [];

  constructor(
    readonly row: McpServerRow,
    private readonly supervisor: McpSupervisor,
  ) {}

  get connectedClient(): Client | null {
    return this.connected ? this.client : null;
  }

  connect(): void {
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    const { row, supervisor } = this;
    const {
      Client,
      CreateMessageRequestSchema,
      ElicitRequestSchema,
      ListRootsRequestSchema,
      LoggingMessageNotificationSchema,
      PromptListChangedNotificationSchema,
      ResourceListChangedNotificationSchema,
      ResourceUpdatedNotificationSchema,
      ToolListChangedNotificationSchema,
    } = await sdk();
    if (this.stopped) return;
    const client = new Client({ name: 'gatehouse', version: VERSION }, { capabilities: UPSTREAM_CLIENT_CAPABILITIES });
    this.client = client;
    honourCancellationOfRequestZero(client);
    const relay = (request: ServerRequest, extra: UpstreamRequestExtra) => supervisor.relayRequest(row, request, extra);
    client.setRequestHandler(CreateMessageRequestSchema, relay);
    client.setRequestHandler(ElicitRequestSchema, relay);
    client.setRequestHandler(ListRootsRequestSchema, relay);
    const notify = (notification: ServerNotification) => supervisor.relayNotification(row, notification);
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, notify);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, notify);
    client.setNotificationHandler(PromptListChangedNotificationSchema, notify);
    client.setNotificationHandler(LoggingMessageNotificationSchema, notify);
    try {
      const transport = await this.transport();
      client.onclose = () => {
        if (this.client === client && !this.stopped) this.fail(new Error('the server closed the connection'));
      };
      // Garbage on the wire: before the handshake completes the server is unusable (failed,
      // restarted later); once running, the call it garbled fails and the error is recorded.
      client.onerror = (error) => {
        if (this.client !== client || this.stopped) return;
        if (!this.connected) return this.fail(error);
        supervisor.log.warn({ server: row.name, err: error }, 'MCP server error');
        void supervisor.setStatus(row.id, 'running', error.message.slice(0, 500));
      };
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        void this.discover(client).catch((error: Error) => this.fail(error));
      });
      await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
      if (this.stopped) return void (await client.close());
      await this.discover(client);
      this.connected = true;
      this.failures = 0;
      supervisor.log.info({ server: row.name, tools: this.tools.length }, 'MCP server running');
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async transport(): Promise<Transport> {
    const { row, supervisor } = this;
    const { StdioClientTransport, UpstreamHttpTransport } = await sdk();
    if (row.transport === 'http') return new UpstreamHttpTransport(new URL(row.url!), await supervisor.headers(row));
    const transport = new StdioClientTransport({
      command: row.command!,
      args: row.args,
      env: await supervisor.environment(row),
      stderr: 'pipe',
    });
    // The server's stderr is its log: each line goes to the daemon's log, tagged with the server.
    // With `stderr: 'pipe'` the SDK hands out a PassThrough, typed as the wider Stream.
    const stderr = transport.stderr as Readable | null;
    if (stderr) {
      createInterface({ input: stderr }).on('line', (line) =>
        supervisor.log.info({ server: row.name, stream: 'stderr' }, line.slice(0, 2000)),
      );
    }
    return transport;
  }

  private async discover(client: Client): Promise<void> {
    const upstream: UpstreamTool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, { timeout: CONNECT_TIMEOUT_MS });
      upstream.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor);
    if (this.client !== client || this.stopped) return;
    this.tools = await this.supervisor.recordTools(this.row, upstream);
    const kept = new Set(this.tools.map((tool) => tool.upstream_name));
    this.upstreamTools = upstream.filter((tool) => kept.has(tool.name));
    this.supervisor.toolsChanged(this.row.id);
  }

  private fail(error: Error): void {
    if (this.stopped) return;
    const client = this.client;
    this.client = null;
    this.connected = false;
    void client?.close().catch(() => undefined);
    const delay = Math.min(RESTART_BACKOFF.firstMs * 2 ** this.failures, RESTART_BACKOFF.maxMs);
    this.failures += 1;
    const message = error.message.slice(0, 500);
    this.supervisor.log.warn({ server: this.row.name, retry_in_ms: delay }, `MCP server failed: ${message}`);
    void this.supervisor.setStatus(this.row.id, 'failed', message);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.stopped) void this.attempt();
    }, delay);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    this.connected = false;
    await client?.close().catch(() => undefined);
  }
}
