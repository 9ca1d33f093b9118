import { InvalidArgumentError, type Command } from 'commander';
import type { CreateServerRequest, McpServer } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { printFields, printJson, printTable, type Column } from '../output.js';
import { ask } from '../prompt.js';
import { JSON_HELP } from './options.js';

const columns: Column<McpServer>[] = [
  ['NAME', (s) => s.name],
  ['TRANSPORT', (s) => s.transport],
  ['STATUS', (s) => s.status],
  ['TOOLS', (s) => s.tools.length],
  ['TARGET', (s) => (s.transport === 'stdio' ? [s.command, ...s.args].join(' ') : s.url)],
  ['LAST ERROR', (s) => s.last_error],
];

/** `NAME=VALUE`, collected over repeated options. */
const assignment = (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('use NAME=VALUE.');
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
};
const repeated = (value: string, previous: string[] = []) => [...previous, value];

function printServer(server: McpServer): void {
  printFields([
    ['name', server.name],
    ['transport', server.transport],
    ['status', server.status],
    ['last error', server.last_error],
    ...(server.transport === 'stdio'
      ? ([
          ['command', [server.command, ...server.args].join(' ')],
          ['env', Object.keys(server.env).join(', ') || null],
          ['secret env', server.secret_env.join(', ') || null],
        ] as Array<[string, unknown]>)
      : ([
          ['url', server.url],
          [
            'credential',
            server.has_credential ? `in the keychain (${server.credential_header ?? 'Authorization: Bearer'})` : null,
          ],
        ] as Array<[string, unknown]>)),
    ['enabled', server.enabled ? 'yes' : 'no'],
  ]);
  if (server.tools.length > 0) {
    console.log('');
    printTable(server.tools, [
      ['TOOL', (tool) => tool.name],
      ['DESCRIPTION', (tool) => tool.description?.split('\n')[0]?.slice(0, 80)],
    ]);
  }
}

/**
 * Secret values are asked for (hidden on a terminal, else one line of stdin each, in order),
 * never taken from the command line, where other users of the machine could read them.
 */
async function askSecrets(names: string[]): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of names) values[name] = await ask(`Value of ${name}: `, { hidden: true });
  return values;
}

/** `servers list|show|add|remove|enable|disable`. */
export function registerServerCommands(program: Command): void {
  const servers = program
    .command('servers')
    .description("the project's MCP tool servers, whose tools agents use through the gateway (/mcp)");

  servers
    .command('list')
    .description('the servers, with status and tool count')
    .option('--json', JSON_HELP)
    .action(async (options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command).api().call('listServers', {});
      if (options.json) printJson(data);
      else printTable(data, columns);
    });

  servers
    .command('show <name>')
    .description('one server, with its tools (named <server>.<tool>, as they are granted)')
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command).api().call('getServer', { params: { name } });
      if (options.json) printJson(data);
      else printServer(data);
    });

  servers
    .command('add <name> [command...]')
    .description('register a stdio server (its command after --) or a Streamable HTTP one (--url)')
    .option('--http-url <url>', 'a Streamable HTTP server instead of a command')
    .option('--env <NAME=VALUE>', 'an environment variable of the server (repeatable)', assignment)
    .option(
      '--secret-env <NAME>',
      'a secret environment variable: its value is asked for and kept in the keychain (repeatable)',
      repeated,
    )
    .option(
      '--credential',
      "ask for the http server's credential (kept in the keychain, sent as Authorization: Bearer)",
    )
    .option('--credential-header <header>', 'send the credential in this header instead, as it is')
    .option('--disabled', 'register it without starting it')
    .option('--json', 'print the server as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  gatehouse servers add everything -- npx -y @modelcontextprotocol/server-everything\n' +
        '  gatehouse servers add github --secret-env GITHUB_TOKEN -- npx -y @modelcontextprotocol/server-github\n' +
        '  gatehouse servers add search --http-url https://mcp.example.com/mcp --credential',
    )
    .action(
      async (
        name: string,
        argv: string[],
        options: {
          httpUrl?: string;
          env?: Record<string, string>;
          secretEnv?: string[];
          credential?: boolean;
          credentialHeader?: string;
          disabled?: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        if (options.httpUrl && argv.length > 0)
          throw new UsageError('give either a command (after --) or --http-url, not both.');
        if (!options.httpUrl && argv.length === 0)
          throw new UsageError("give the server's command after --, or --http-url.");
        const body: CreateServerRequest = options.httpUrl
          ? {
              name,
              transport: 'http',
              url: options.httpUrl,
              ...(options.credential ? { credential: await ask('Credential: ', { hidden: true }) } : {}),
              ...(options.credentialHeader ? { credential_header: options.credentialHeader } : {}),
            }
          : {
              name,
              transport: 'stdio',
              command: argv[0]!,
              args: argv.slice(1),
              ...(options.env ? { env: options.env } : {}),
              ...(options.secretEnv?.length ? { secret_env: await askSecrets(options.secretEnv) } : {}),
            };
        if (options.disabled) body.enabled = false;
        const { data } = await contextOf(command).api().call('createServer', { body });
        if (options.json) printJson(data);
        else
          console.error(
            `Registered ${data.name} (${data.status}); see its tools with \`gatehouse servers show ${data.name}\`.`,
          );
      },
    );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const)
    servers
      .command(`${verb} <name>`)
      .description(enabled ? 'start a disabled server' : 'stop a server and keep it registered')
      .option('--json', 'print the server as JSON')
      .action(async (name: string, options: { json?: boolean }, command: Command) => {
        const { data } = await contextOf(command).api().call('updateServer', { params: { name }, body: { enabled } });
        if (options.json) printJson(data);
        else console.error(`${data.name}: ${data.status}.`);
      });

  servers
    .command('remove <name>')
    .description('stop and remove a server, its keychain entries and its tools')
    .action(async (name: string, _options: unknown, command: Command) => {
      await contextOf(command).api().call('deleteServer', { params: { name } });
      console.error(`Removed ${name}.`);
    });
}
