import { EntitySchema } from 'typeorm';
import type { Injection, OAuthSettings } from '@gatehouse/shared';
import { nullableText, text } from './entities.js';

export interface ConnectionRow {
  id: string;
  project_id: string;
  name: string;
  base_url: string;
  injection: Injection;
  /** The keychain account holding the secret; never the secret. */
  secret_account: string;
  allowed_methods: string[];
  allowed_paths: string[];
  description: string | null;
  /** An OAuth connection's settings; its refresh token is at `secret_account`. */
  oauth: (OAuthSettings & { client_secret_account: string | null }) | null;
  connected_at: string | null;
  created_at: string;
  updated_at: string;
}
export const ConnectionEntity = new EntitySchema<ConnectionRow>({
  name: 'Connection',
  tableName: 'connections',
  columns: {
    id: { ...text, primary: true },
    project_id: text,
    name: text,
    base_url: text,
    injection: { type: 'simple-json' },
    secret_account: text,
    allowed_methods: { type: 'simple-json' },
    allowed_paths: { type: 'simple-json' },
    description: nullableText,
    oauth: { type: 'simple-json', nullable: true },
    connected_at: nullableText,
    created_at: text,
    updated_at: text,
  },
});

/** How one grant of a connection (an agent's direct grant, or a role's) narrows it. */
export interface ConnectionGrantRuleRow {
  id: string;
  connection_id: string;
  /** Exactly one of agent_id and role is set. */
  agent_id: string | null;
  role: string | null;
  allowed_methods: string[];
  allowed_paths: string[];
  created_at: string;
  updated_at: string;
}
export const ConnectionGrantRuleEntity = new EntitySchema<ConnectionGrantRuleRow>({
  name: 'ConnectionGrantRule',
  tableName: 'connection_grant_rules',
  columns: {
    id: { ...text, primary: true },
    connection_id: text,
    agent_id: nullableText,
    role: nullableText,
    allowed_methods: { type: 'simple-json' },
    allowed_paths: { type: 'simple-json' },
    created_at: text,
    updated_at: text,
  },
});

export const connectionEntities = [ConnectionEntity, ConnectionGrantRuleEntity];
