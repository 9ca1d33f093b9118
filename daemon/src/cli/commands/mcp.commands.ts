import type { Command } from 'commander';
import { openAgentSecrets, parseAgentRef, readAgentKey } from '../agent-secrets.js';
import { contextOf } from '../context.js';

/** `mcp --agent`: the gateway as a stdio MCP server, for clients that only launch stdio servers. */
export function registerMcpCommands(program: Command): void {
  program
    .command('mcp')
    .description("serve the MCP gateway on stdin/stdout as an agent, with the agent's key from the OS keychain")
    .requiredOption('--agent <project/agent>', 'the agent whose tools to serve')
    .addHelpText(
      'after',
      '\nFor desktop assistants and IDEs that launch MCP servers as commands, e.g.:\n' +
        '  { "mcpServers": { "gatehouse": { "command": "gatehouse", "args": ["mcp", "--agent", "default/researcher"] } } }\n' +
        "The key is read from the keychain at start: it is never in the client's configuration.",
    )
    .action(async (options: { agent: string }, command: Command) => {
      const context = contextOf(command);
      const ref = parseAgentRef(options.agent);
      const secrets = await openAgentSecrets(context.home, context.keychainService);
      const key = await readAgentKey(secrets, context.home, ref);
      // Imported here: the MCP SDK is loaded by the commands that use it, not by every `gatehouse` run.
      const { relayStdioToGateway } = await import('../mcp-relay.js');
      await relayStdioToGateway(new URL('/mcp', context.daemonUrl()), key);
    });
}
