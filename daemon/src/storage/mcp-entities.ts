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
  /** Names only: the values are the keychain items `secret_accounts` names. */
  secret_env: string[];
  /** Each secret variable's keychain account, by name; a new one each time its value is set. */
  secret_accounts: Record<string, string>;
  url: string | null;
  has_credential: boolean;
  /** The upstream credential's keychain account while `has_credential`; a new one each time it is set. */
  credential_account: string | null;
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
    secret_accounts: { type: 'simple-json' },
    url: nullableText,
    has_credential: { type: 'boolean' },
    credential_account: nullableText,
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
