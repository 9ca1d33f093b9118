import type { Command } from 'commander';
import type { AgentKey } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { minute, printJson, printTable, type Column } from '../output.js';
import { printIssuedKey } from './agents.commands.js';
import { integer, JSON_HELP, list } from './options.js';

const columns: Column<AgentKey>[] = [
  ['ID', (k) => k.id],
  ['KEY', (k) => `agent_${k.prefix}_…${k.last_four}`],
  ['LABEL', (k) => k.label],
  ['ACTIVE', (k) => (k.active ? 'yes' : 'no')],
  ['SCOPES', (k) => (k.scopes.length ? k.scopes : 'all')],
  ['EXPIRES', (k) => minute(k.expires_at) ?? 'never'],
  ['LAST USED', (k) => minute(k.last_used_at)],
  ['KEYCHAIN', (k) => (k.in_keychain ? 'yes' : 'no')],
];

/** `keys list|create|rotate|revoke`. */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description("an agent's API keys");

  keys
    .command('list <agent>')
    .description("the agent's keys (never the keys themselves)")
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('listKeys', { params: { name }, query: { limit: 1000 } });
      if (options.json) printJson(data);
      else printTable(data, columns);
    });

  keys
    .command('create <agent>')
    .description('issue an API key: printed once, and saved in the OS keychain')
    .option('--label <label>')
    .option('--expires-in-days <days>', 'days until it expires; 0 = never (default 30)', integer(0, 3650))
    .option('--scopes <list>', "comma-separated subset of the agent's scopes (default: all)", list)
    .option('--no-keychain', 'do not save it in the OS keychain')
    .option('--json', 'print the new key as JSON')
    .action(
      async (
        name: string,
        options: { label?: string; expiresInDays?: number; scopes?: string[]; keychain: boolean; json?: boolean },
        command: Command,
      ) => {
        const { data } = await contextOf(command)
          .api()
          .call('createKey', {
            params: { name },
            body: {
              label: options.label,
              expires_in_days: options.expiresInDays,
              scopes: options.scopes,
              store_in_keychain: options.keychain,
            },
          });
        if (options.json) printJson(data);
        else printIssuedKey(data);
      },
    );

  keys
    .command('rotate <agent> <key-id>')
    .description('replace a key with a new one (printed once); the old one stops after the grace period')
    .option('--grace <seconds>', 'how long the old key keeps working (default 0: stops now)', integer(0, 7 * 86_400))
    .option('--label <label>', 'label of the new key')
    .option('--json', 'print the new key as JSON')
    .action(
      async (
        name: string,
        keyId: string,
        options: { grace?: number; label?: string; json?: boolean },
        command: Command,
      ) => {
        const { data } = await contextOf(command)
          .api()
          .call('rotateKey', {
            params: { name, key_id: keyId },
            body: { grace_seconds: options.grace, label: options.label },
          });
        if (options.json) printJson(data);
        else printIssuedKey(data);
      },
    );

  keys
    .command('revoke <agent> <key-id>')
    .description('revoke a key now')
    .option('--json', 'print the revoked key as JSON')
    .action(async (name: string, keyId: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command)
        .api()
        .call('revokeKey', { params: { name, key_id: keyId } });
      if (options.json) printJson(data);
      else console.error(`Revoked key ${data.id} (agent_${data.prefix}_…${data.last_four}).`);
    });
}
