import { EntitySchema } from 'typeorm';
import type { DiscoveredTool, ServerStatus, ServerTransport } from '@gatehouse/shared';
import { nullableText, text } from './entities.js';

export interface McpServerRow {
  id: string;
  project_id: string;
  name: string;
  transport: ServerTransport;
  command: string | null;
  args: string[];
  env: Record<string, string>;
  /** Names only: the values are keychain items `mcp-server-env:<id>:<NAME>`. */
  secret_env: string[];
  url: string | null;
  has_credential: boolean;
  credential_header: string | null;
  enabled: boolean;
  status: ServerStatus;
  last_error: string | null;
  tools: DiscoveredTool[];
  created_at: string;
  updated_at: string;
}
export const McpServerEntity = new EntitySchema<McpServerRow>({
  name: 'McpServer',
  tableName: 'mcp_servers',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    name: text,
    transport: text,
    command: nullableText,
    args: { type: 'simple-json' },
    env: { type: 'simple-json' },
    secret_env: { type: 'simple-json' },
    url: nullableText,
    has_credential: { type: 'boolean' },
    credential_header: nullableText,
    enabled: { type: 'boolean' },
    status: text,
    last_error: nullableText,
    tools: { type: 'simple-json' },
    created_at: text,
    updated_at: text,
  },
});

export const mcpEntities = [McpServerEntity];
