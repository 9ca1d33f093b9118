import { InvalidArgumentError, type Command } from 'commander';
import type {
  Connection,
  ConnectionGrant,
  ConnectionGrantRequest,
  CreateConnectionRequest,
  Injection,
} from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { CliError, UsageError } from '../errors.js';
import { minute, printFields, printJson, printTable, type Column } from '../output.js';
import { ask } from '../prompt.js';
import { integer, JSON_HELP, list } from './options.js';

/** How often `connect` asks the daemon whether the account is connected yet. */
const CONNECT_POLL_MS = 1000;

const credentialOf = (c: Connection) =>
  c.oauth
    ? c.oauth.connected_at
      ? `oauth, connected ${minute(c.oauth.connected_at)}`
      : 'oauth, not connected'
    : 'secret in keychain';

const columns: Column<Connection>[] = [
  ['NAME', (c) => c.name],
  ['BASE URL', (c) => c.base_url],
  [
    'INJECTED AS',
    (c) => (c.injection.kind === 'header' ? `${c.injection.name}: ${c.injection.template}` : `?${c.injection.name}=…`),
  ],
  ['METHODS', (c) => (c.allowed_methods.length ? c.allowed_methods : 'all')],
  ['PATHS', (c) => (c.allowed_paths.length ? c.allowed_paths : 'all')],
  ['CREDENTIAL', credentialOf],
  ['TOOL', (c) => c.tool],
  ['CREATED', (c) => minute(c.created_at)],
];

const grantColumns: Column<ConnectionGrant>[] = [
  ['GRANTED TO', (g) => `${g.subject} ${g.name}`],
  ['METHODS', (g) => (g.allowed_methods.length ? g.allowed_methods : "the connection's")],
  ['PATHS', (g) => (g.allowed_paths.length ? g.allowed_paths : "the connection's")],
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

/** `connections list|show|add|remove|connect|disconnect|grants|grant|revoke-grant`. */
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
    .description('one connection, with the state of its OAuth account (never its secret)')
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('getConnection', { params: { connection: name } });
      if (options.json) return printJson(data);
      printFields([
        ['name', data.name],
        ['base url', data.base_url],
        ['injected as', columns[2]![1](data)],
        ['credential', credentialOf(data)],
        ...(data.oauth
          ? ([
              ['authorization', data.oauth.authorization_url],
              ['token endpoint', data.oauth.token_url],
              ['client id', data.oauth.client_id],
              ['scopes', data.oauth.scopes],
            ] as Array<[string, unknown]>)
          : []),
        ['methods', data.allowed_methods.length ? data.allowed_methods : 'all'],
        ['paths', data.allowed_paths.length ? data.allowed_paths : 'all'],
        ['tool', data.tool],
        ['description', data.description],
      ]);
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
    .option('--secret-stdin', 'read the secret (or the OAuth client secret) from stdin instead of asking')
    .option('--oauth', 'an OAuth connection: no secret; connect an account afterwards with `connections connect`')
    .option('--authorization-url <url>', "with --oauth: the provider's authorization endpoint")
    .option('--token-url <url>', "with --oauth: the provider's token endpoint")
    .option('--revocation-url <url>', "with --oauth: the provider's revocation endpoint (RFC 7009), if it has one")
    .option('--client-id <id>', 'with --oauth: the client registered at the provider')
    .option('--client-secret', 'with --oauth: the client has a secret; it is asked for (or read from stdin)')
    .option('--scopes <list>', 'with --oauth: the scopes to ask for (comma-separated)', list)
    .addHelpText(
      'after',
      '\nThen grant it:  gatehouse connections grant <name> --agent <agent> [--methods …] [--paths …]\n' +
        'Examples:\n  gatehouse connections add openai https://api.openai.com/v1 --paths "/chat/**,/embeddings"\n' +
        '  gatehouse connections add github https://api.github.com --oauth --client-id Iv1.abc --client-secret \\\n' +
        '    --authorization-url https://github.com/login/oauth/authorize \\\n' +
        '    --token-url https://github.com/login/oauth/access_token --scopes repo\n' +
        '  gatehouse connections connect github',
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
          oauth?: boolean;
          authorizationUrl?: string;
          tokenUrl?: string;
          revocationUrl?: string;
          clientId?: string;
          clientSecret?: boolean;
          scopes?: string[];
        },
        command: Command,
      ) => {
        const stdin = options.secretStdin ?? false;
        const credential = options.oauth
          ? { oauth: await oauthSettings(name, options, stdin) }
          : // Never an argument: a command line is visible to every process of the machine.
            { secret: await ask(`Secret for ${name}: `, { hidden: true, stdin }) };
        const injection: Injection = options.query
          ? { kind: 'query', name: options.query }
          : (options.header ?? { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' });
        const { data } = await contextOf(command)
          .api()
          .call('createConnection', {
            body: {
              name,
              base_url: baseUrl,
              ...credential,
              injection,
              ...(options.methods
                ? { allowed_methods: options.methods as CreateConnectionRequest['allowed_methods'] }
                : {}),
              ...(options.paths ? { allowed_paths: options.paths } : {}),
              ...(options.description ? { description: options.description } : {}),
            },
          });
        console.log(`Added connection ${data.name}; grant it to agents as the tool ${data.tool}.`);
        if (data.oauth) console.log(`Connect its account next:  gatehouse connections connect ${data.name}`);
      },
    );

  connections
    .command('connect <name>')
    .description(
      "connect an OAuth connection's account: prints the provider's address to open, then waits until the " +
        'provider has sent the browser back to the daemon',
    )
    .option('--no-wait', 'print the address and return at once')
    .option('--timeout <seconds>', 'how long to wait (at most the 10 minutes the address is good for)', integer(1, 600))
    .action(async (name: string, options: { wait: boolean; timeout?: number }, command: Command) => {
      const api = contextOf(command).api();
      const before = (await api.call('getConnection', { params: { connection: name } })).data;
      if (!before.oauth) throw new UsageError(`${name} is not an OAuth connection: it has a fixed secret.`);
      const { data: started } = await api.call('startConnectionOAuth', { params: { connection: name } });
      // stdout: the address alone, for a script to hand to a browser; the rest is for the person.
      console.error(
        `Open this address in a browser and consent at the provider (good until ${minute(started.expires_at)}):`,
      );
      console.log(started.authorization_url);
      if (!options.wait) return;
      console.error('Waiting for the provider to send the browser back to the daemon… (Ctrl-C to stop)');
      const deadline = Math.min(
        Date.parse(started.expires_at),
        Date.now() + (options.timeout ?? Number.POSITIVE_INFINITY) * 1000,
      );
      // The daemon takes the redirect itself (its loopback callback), so the CLI only watches for the result.
      while (Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, CONNECT_POLL_MS));
        const { data } = await api.call('getConnection', { params: { connection: name } });
        const connectedAt = data.oauth?.connected_at ?? null;
        if (connectedAt !== null && connectedAt !== before.oauth.connected_at) {
          console.error(
            `Connected an account to ${name} (${minute(connectedAt)}); its refresh token is in the keychain.`,
          );
          return;
        }
      }
      throw new CliError(
        `No account was connected to ${name} in time; run \`gatehouse connections connect ${name}\` again.`,
      );
    });

  connections
    .command('disconnect <name>')
    .description("disconnect an OAuth connection's account: its refresh token is revoked at the provider and deleted")
    .action(async (name: string, _options: unknown, command: Command) => {
      await contextOf(command)
        .api()
        .call('revokeConnectionOAuth', { params: { connection: name } });
      console.error(`Disconnected the account of ${name}; brokered calls fail until one is connected again.`);
    });

  connections
    .command('grants <name>')
    .description('the agents and roles granted a connection, and what each grant narrows it to')
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('listConnectionGrants', { params: { connection: name }, query: { limit: 1000 } });
      if (options.json) printJson(data);
      else printTable(data, grantColumns);
    });

  connections
    .command('grant <name>')
    .description(
      "grant a connection to an agent or a role, optionally narrowed (never wider than the connection's own rules); " +
        'again on a grant already held, it replaces the narrowing',
    )
    .option('--agent <agent>', 'the agent to grant it to')
    .option('--role <role>', 'the role to put it in')
    .option('--methods <list>', 'allow only these methods (comma-separated)', list)
    .option('--paths <list>', 'allow only these path patterns (comma-separated; * within a segment, ** across)', list)
    .option('--json', 'print the grant as JSON')
    .action(
      async (
        name: string,
        options: { agent?: string; role?: string; methods?: string[]; paths?: string[]; json?: boolean },
        command: Command,
      ) => {
        const body: ConnectionGrantRequest = {
          allowed_methods: (options.methods ?? []) as ConnectionGrantRequest['allowed_methods'],
          allowed_paths: options.paths ?? [],
        };
        const api = contextOf(command).api();
        const holder = holderOf(options);
        const { data } =
          holder.subject === 'agent'
            ? await api.call('setAgentConnectionGrant', { params: { connection: name, agent: holder.name }, body })
            : await api.call('setRoleConnectionGrant', { params: { connection: name, role: holder.name }, body });
        if (options.json) return printJson(data);
        console.error(`Granted ${name} to ${data.subject} ${data.name}.`);
        printTable([data], grantColumns);
      },
    );

  connections
    .command('revoke-grant <name>')
    .description('revoke a grant of a connection from an agent or a role, with its narrowing')
    .option('--agent <agent>')
    .option('--role <role>')
    .action(async (name: string, options: { agent?: string; role?: string }, command: Command) => {
      const api = contextOf(command).api();
      const holder = holderOf(options);
      if (holder.subject === 'agent')
        await api.call('revokeAgentConnectionGrant', { params: { connection: name, agent: holder.name } });
      else await api.call('revokeRoleConnectionGrant', { params: { connection: name, role: holder.name } });
      console.error(`Revoked ${name} from ${holder.subject} ${holder.name}.`);
    });

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

/** Exactly one of `--agent` and `--role`. */
function holderOf(options: { agent?: string; role?: string }): { subject: 'agent' | 'role'; name: string } {
  if ((options.agent === undefined) === (options.role === undefined))
    throw new UsageError('name exactly one of --agent <agent> and --role <role>.');
  return options.agent !== undefined
    ? { subject: 'agent', name: options.agent }
    : { subject: 'role', name: options.role! };
}

/** The OAuth settings of `add --oauth`; the client secret, if any, is asked for, never an argument. */
async function oauthSettings(
  name: string,
  options: {
    authorizationUrl?: string;
    tokenUrl?: string;
    revocationUrl?: string;
    clientId?: string;
    clientSecret?: boolean;
    scopes?: string[];
  },
  stdin: boolean,
): Promise<NonNullable<CreateConnectionRequest['oauth']>> {
  const { authorizationUrl, tokenUrl, clientId } = options;
  if (!authorizationUrl || !tokenUrl || !clientId)
    throw new UsageError('--oauth needs --authorization-url, --token-url and --client-id.');
  return {
    authorization_url: authorizationUrl,
    token_url: tokenUrl,
    client_id: clientId,
    ...(options.revocationUrl ? { revocation_url: options.revocationUrl } : {}),
    ...(options.clientSecret
      ? { client_secret: await ask(`Client secret for ${name}: `, { hidden: true, stdin }) }
      : {}),
    ...(options.scopes ? { scopes: options.scopes } : {}),
  };
}
