import { InvalidArgumentError, type Command } from 'commander';
import type { PreRegisteredClient, RegistrationPolicy } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { minute, printFields, printJson, printTable, type Column } from '../output.js';
import { JSON_HELP } from './options.js';

const columns: Column<PreRegisteredClient>[] = [
  ['CLIENT ID', (c) => c.client_id],
  ['NAME', (c) => c.client_name],
  ['TYPE', (c) => (c.confidential ? 'confidential' : 'public')],
  ['REDIRECT URIS', (c) => c.redirect_uris],
  ['REGISTERED', (c) => minute(c.created_at)],
];

/** The registration methods, as the CLI names them. */
const METHODS: Array<[option: string, field: keyof RegistrationPolicy]> = [
  ['pre-registered', 'pre_registered_clients'],
  ['metadata-documents', 'client_id_metadata_documents'],
  ['dynamic', 'dynamic_registration'],
];

const onOff = (value: string): boolean => {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError('use "on" or "off".');
};

const repeated = (value: string, previous: string[] = []): string[] => [...previous, value];

const printPolicy = (policy: RegistrationPolicy) =>
  printFields(METHODS.map(([option, field]) => [option, policy[field] ? 'on' : 'off']));

/** `oauth clients list|add|remove` and `oauth registration [show|set]`: the OAuth authorization server (admins). */
export function registerOAuthCommands(program: Command): void {
  const oauth = program
    .command('oauth')
    .description('the OAuth authorization server MCP clients sign in to: its clients and how they register');

  const clients = oauth.command('clients').description('clients registered by an admin');

  clients
    .command('list')
    .description('the pre-registered clients, newest first (never their secrets)')
    .option('--json', JSON_HELP)
    .action(async (options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('listPreRegisteredClients', { query: { limit: 1000 } });
      if (options.json) printJson(data);
      else printTable(data, columns);
    });

  clients
    .command('add <name>')
    .description("pre-register a client; a confidential one's secret is printed once")
    .requiredOption('--redirect-uri <uri>', 'a redirect URI (repeat for more)', repeated)
    .option('--confidential', 'the client authenticates at the token endpoint with a secret (HTTP Basic)')
    .option('--json', 'print the registered client (and its secret) as JSON')
    .addHelpText(
      'after',
      '\nA loopback redirect URI (http://127.0.0.1/…) accepts any port the client picks.\nExample:\n' +
        '  gatehouse oauth clients add "Team IDE" --redirect-uri http://127.0.0.1/callback',
    )
    .action(
      async (
        name: string,
        options: { redirectUri: string[]; confidential?: boolean; json?: boolean },
        command: Command,
      ) => {
        const { data } = await contextOf(command)
          .api()
          .call('preRegisterOAuthClient', {
            body: {
              client_name: name,
              redirect_uris: options.redirectUri,
              confidential: options.confidential ?? false,
            },
          });
        if (options.json) return printJson(data);
        printFields([
          ['client_id', data.client_id],
          ...(data.client_secret ? [['client_secret', data.client_secret] as [string, string]] : []),
        ]);
        if (data.client_secret) console.error('The secret is shown once and kept only as a hash: keep it now.');
      },
    );

  clients
    .command('remove <client-id>')
    .description('delete a pre-registered client; its tokens stop working now')
    .action(async (clientId: string, _options: unknown, command: Command) => {
      await contextOf(command)
        .api()
        .call('deletePreRegisteredClient', { params: { client_id: clientId } });
      console.log(`Removed OAuth client ${clientId}.`);
    });

  const registration = oauth.command('registration').description('the ways a client may register, each on or off');

  registration
    .command('show', { isDefault: true })
    .description('which registration methods are on')
    .option('--json', JSON_HELP)
    .action(async (options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command).api().call('getRegistrationPolicy', {});
      if (options.json) printJson(data);
      else printPolicy(data);
    });

  const set = registration
    .command('set')
    .description('switch registration methods on or off; the ones not named stay as they are')
    .option('--json', JSON_HELP)
    .addHelpText('after', '\nExample:\n  gatehouse oauth registration set --dynamic off --metadata-documents on');
  for (const [option, field] of METHODS) set.option(`--${option} <on|off>`, field.replaceAll('_', ' '), onOff);
  set.action(async (options: Record<string, boolean | undefined>, command: Command) => {
    const changes = METHODS.filter(([option]) => options[camelCase(option)] !== undefined);
    if (changes.length === 0) command.error(`name at least one of ${METHODS.map(([o]) => `--${o}`).join(', ')}.`);
    const api = contextOf(command).api();
    const { data: current } = await api.call('getRegistrationPolicy', {});
    const body = { ...current };
    for (const [option, field] of changes) body[field] = options[camelCase(option)]!;
    const { data } = await api.call('setRegistrationPolicy', { body });
    if (options.json) printJson(data);
    else printPolicy(data);
  });
}

/** Commander's name for an option's value: `--metadata-documents` → `metadataDocuments`. */
const camelCase = (option: string) => option.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
