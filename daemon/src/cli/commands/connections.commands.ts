import { InvalidArgumentError, type Command } from 'commander';
import type { Connection, CreateConnectionRequest, Injection } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { minute, printJson, printTable, type Column } from '../output.js';
import { ask } from '../prompt.js';
import { JSON_HELP, list } from './options.js';

const columns: Column<Connection>[] = [
  ['NAME', (c) => c.name],
  ['BASE URL', (c) => c.base_url],
  [
    'INJECTED AS',
    (c) => (c.injection.kind === 'header' ? `${c.injection.name}: ${c.injection.template}` : `?${c.injection.name}=…`),
  ],
  ['METHODS', (c) => (c.allowed_methods.length ? c.allowed_methods : 'all')],
  ['PATHS', (c) => (c.allowed_paths.length ? c.allowed_paths : 'all')],
  ['TOOL', (c) => c.tool],
  ['CREATED', (c) => minute(c.created_at)],
];

/** `Authorization: Bearer {secret}` → a header injection. */
function headerInjection(value: string): Injection {
  const colon = value.indexOf(':');
  if (colon < 1 || !value.includes('{secret}'))
    throw new InvalidArgumentError(
      'use "<Header-Name>: <template with {secret}>", e.g. "Authorization: Bearer {secret}".',
    );
  return { kind: 'header', name: value.slice(0, colon).trim(), template: value.slice(colon + 1).trim() };
}

/** `connections list|show|add|remove`. */
export function registerConnectionCommands(program: Command): void {
  const connections = program
    .command('connections')
    .description('brokered upstream credentials: agents call /proxy/<name>/… and never hold the secret');

  connections
    .command('list')
    .description("the project's connections (never their secrets)")
    .option('--json', JSON_HELP)
    .action(async (options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('listConnections', { query: { limit: 1000 } });
      if (options.json) printJson(data);
      else printTable(data, columns);
    });

  connections
    .command('show <name>')
    .description('one connection (never its secret)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('getConnection', { params: { connection: name } });
      printJson(data);
    });

  connections
    .command('add <name> <base-url>')
    .description(
      'add a connection; the secret is read from stdin or asked for, kept in the OS keychain, never shown again',
    )
    .option('--header <template>', 'inject as a header (default "Authorization: Bearer {secret}")', headerInjection)
    .option('--query <param>', 'inject as this query parameter instead')
    .option('--methods <list>', 'allow only these methods (comma-separated)', list)
    .option('--paths <list>', 'allow only these path patterns (comma-separated; * within a segment, ** across)', list)
    .option('--description <text>')
    .option('--secret-stdin', 'read the secret from stdin (for scripts) instead of asking')
    .addHelpText(
      'after',
      '\nThen grant it like a tool:  gatehouse agents grant <agent> connection:<name>\n' +
        'Example:\n  gatehouse connections add openai https://api.openai.com/v1 --paths "/chat/**,/embeddings"',
    )
    .action(
      async (
        name: string,
        baseUrl: string,
        options: {
          header?: Injection;
          query?: string;
          methods?: string[];
          paths?: string[];
          description?: string;
          secretStdin?: boolean;
        },
        command: Command,
      ) => {
        // Never an argument: a command line is visible to every process of the machine.
        const secret = await ask(`Secret for ${name}: `, { hidden: true, stdin: options.secretStdin ?? false });
        const injection: Injection = options.query
          ? { kind: 'query', name: options.query }
          : (options.header ?? { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' });
        const { data } = await contextOf(command)
          .api()
          .call('createConnection', {
            body: {
              name,
              base_url: baseUrl,
              secret,
              injection,
              ...(options.methods
                ? { allowed_methods: options.methods as CreateConnectionRequest['allowed_methods'] }
                : {}),
              ...(options.paths ? { allowed_paths: options.paths } : {}),
              ...(options.description ? { description: options.description } : {}),
            },
          });
        console.log(`Added connection ${data.name}; grant it to agents as the tool ${data.tool}.`);
      },
    );

  connections
    .command('remove <name>')
    .description('remove a connection, its grants and its secret')
    .action(async (name: string, _options: unknown, command: Command) => {
      await contextOf(command)
        .api()
        .call('deleteConnection', { params: { connection: name } });
      console.log(`Removed connection ${name}.`);
    });
}
