import type * as gatewayModule from './mcp-gateway.js';
import type { McpGateway } from './mcp-gateway.js';

/**
 * The gateway behind `/mcp`, its module (and with it the MCP SDK's server side and zod) imported
 * on the first request rather than with the daemon: a daemon no agent reaches over MCP never holds
 * them (about 10 MB of heap; B11 in bench/README). Until then no session exists, so an upstream's
 * own request finds no agent to answer it, as it would with the gateway loaded.
 */
export class McpGatewayLoader {
  private gateway: Promise<McpGateway> | null = null;

  constructor(private readonly create: (module: typeof gatewayModule) => McpGateway) {}

  async handle(...args: Parameters<McpGateway['handle']>): Promise<void> {
    return (await this.load()).handle(...args);
  }

  /** Ends every session (the daemon is shutting down); nothing to do if none was ever opened. */
  async close(): Promise<void> {
    if (this.gateway) await (await this.gateway).close();
  }

  private load(): Promise<McpGateway> {
    return (this.gateway ??= import('./mcp-gateway.js').then(this.create));
  }
}
