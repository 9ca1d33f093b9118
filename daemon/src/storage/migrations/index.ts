import { Foundation1795398000000 } from './0001-foundation.js';
import { Agents1795398100000 } from './0002-agents.js';
import { Permissions1795398200000 } from './0003-permissions.js';
import { Approvals1795398300000 } from './0004-approvals.js';
import { Workflows1795398400000 } from './0005-workflows.js';
import { RevokeTokensOnPermissionChange1795398500000 } from './0006-revoke-tokens-on-permission-change.js';
import { DropRevokeTokensTrigger1795398600000 } from './0007-revoke-tokens-in-permissions-service.js';
import { McpServers1795398900000 } from './0009-mcp-servers.js';
import { Connections1795399000000 } from './0010-connections.js';
import { UsageLimits1795399000100 } from './0010-usage-limits.js';
import { OAuthConnections1795399000200 } from './0010-oauth-connections.js';
import { OAuth1795399100000 } from './0011-oauth.js';
import { OtasApi1795399200000 } from './0008-otas-api.js';
import { SealedSecrets1795399300000 } from './0012-sealed-secrets.js';
import { OverviewIndexes1795399400000 } from './0013-overview-indexes.js';
import { ConnectionGrantRules1795399600000 } from './0015-connection-grant-rules.js';
import { McpServerSecretAccounts1795399700000 } from './0016-mcp-server-secret-accounts.js';
import { AttemptCounts1795399800000 } from './0017-attempt-counts.js';
import { UsageCounts1795400000000 } from './0019-usage-counts.js';

/** Every migration, in order. New ones are appended here, never reordered. */
export const migrations = [
  Foundation1795398000000,
  Agents1795398100000,
  Permissions1795398200000,
  Approvals1795398300000,
  Workflows1795398400000,
  RevokeTokensOnPermissionChange1795398500000,
  DropRevokeTokensTrigger1795398600000,
  McpServers1795398900000,
  Connections1795399000000,
  UsageLimits1795399000100,
  OAuthConnections1795399000200,
  OAuth1795399100000,
  OtasApi1795399200000,
  SealedSecrets1795399300000,
  OverviewIndexes1795399400000,
  ConnectionGrantRules1795399600000,
  McpServerSecretAccounts1795399700000,
  AttemptCounts1795399800000,
  UsageCounts1795400000000,
];
