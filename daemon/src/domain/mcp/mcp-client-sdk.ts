/*
 * The parts of the MCP SDK the supervisor runs (the SDK and zod, whose schemas it builds as it
 * loads): imported the first time a registered server starts, not with the daemon. A daemon with
 * no MCP server never holds them (about 10 MB of heap; B11 in bench/README).
 */
export { Client } from '@modelcontextprotocol/sdk/client/index.js';
export { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
export { UpstreamHttpTransport } from './upstream-http-transport.js';
export {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
