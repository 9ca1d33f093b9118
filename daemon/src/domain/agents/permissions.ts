import type { AgentRow } from '../../storage/agent-entities.js';

/**
 * The tools an agent may use. Deny by default: only what it was granted.
 * (Capability roles and the server's tool registry narrow this further once they exist.)
 */
export function effectiveTools(agent: AgentRow): string[] {
  return [...agent.allowed_tools].sort();
}
