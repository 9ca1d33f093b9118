import { Argument, type Command } from 'commander';
import { registerAgentCredentialCommands } from './commands/agent-credentials.commands.js';
import { registerAgentCommands } from './commands/agents.commands.js';
import { registerAuditCommands } from './commands/audit.commands.js';
import { registerKeyCommands } from './commands/keys.commands.js';
import { registerMcpCommands } from './commands/mcp.commands.js';
import { registerOAuthCommands } from './commands/oauth.commands.js';
import { registerServerCommands } from './commands/servers.commands.js';
import { registerSessionCommands } from './commands/session.commands.js';
import { registerWorkflowCommands } from './commands/workflows.commands.js';
import { registerConnectionCommands } from './commands/connections.commands.js';
import { registerLimitCommands } from './commands/limits.commands.js';
import { completionScript } from './completion.js';

/** Adds the CLI's commands (everything but `gatehouse daemon`) and its global options to `program`. */
export function registerCommands(program: Command): void {
  program
    .option('--url <url>', 'the daemon to talk to [env GATEHOUSE_URL; default: the running daemon of the data dir]')
    .option('--home <dir>', 'data directory [env GATEHOUSE_HOME; default: the platform app-data dir]')
    .option('--project <project>', 'project slug or id [env GATEHOUSE_PROJECT; default: the default project]');

  registerSessionCommands(program);
  registerAgentCommands(program);
  registerKeyCommands(program);
  registerWorkflowCommands(program);
  registerAuditCommands(program);
  registerAgentCredentialCommands(program);
  registerConnectionCommands(program);
  registerLimitCommands(program);
  registerServerCommands(program);
  registerMcpCommands(program);
  registerOAuthCommands(program);

  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .addHelpText('after', '\nLoad it with:  source <(gatehouse completion bash)   (or zsh)')
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(completionScript(program, shell));
    });
}
