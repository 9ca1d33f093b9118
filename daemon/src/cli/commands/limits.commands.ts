import { InvalidArgumentError, type Command } from 'commander';
import type { LimitWindow, UsageLimit } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { minute, printJson, printTable, type Column } from '../output.js';
import { integer, JSON_HELP } from './options.js';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `minute=60/1m`: a window named minute allowing 60 requests per minute. */
function windowOption(value: string, previous: LimitWindow[] = []): LimitWindow[] {
  const match = /^([a-z0-9_-]+)=(\d+)\/(\d+)([smhd])$/.exec(value);
  if (!match) throw new InvalidArgumentError('use <name>=<requests>/<length><s|m|h|d>, e.g. minute=60/1m.');
  const [, name, limit, length, unit] = match;
  return [...previous, { name: name!, limit: Number(limit), seconds: Number(length) * UNIT_SECONDS[unit!]! }];
}

/** `100/1d`: 100 uses again every day. */
function refillOption(value: string): { amount: number; interval_seconds: number } {
  const match = /^(\d+)\/(\d+)([smhd])$/.exec(value);
  if (!match) throw new InvalidArgumentError('use <uses>/<length><s|m|h|d>, e.g. 100/1d.');
  return { amount: Number(match[1]), interval_seconds: Number(match[2]) * UNIT_SECONDS[match[3]!]! };
}

function timestampOption(value: string): string {
  const at = new Date(value);
  if (Number.isNaN(at.getTime()))
    throw new InvalidArgumentError('use an ISO 8601 timestamp, e.g. 2027-01-01T00:00:00Z.');
  return at.toISOString();
}

const columns: Column<UsageLimit>[] = [
  ['ID', (l) => l.id],
  ['APPLIES TO', (l) => (l.key_id ? `key ${l.key_id}` : l.connection ? `connection:${l.connection}` : 'agent')],
  ['WINDOWS (USED/LIMIT)', (l) => l.windows.map((w) => `${w.name} ${w.used}/${w.limit} per ${w.seconds}s`)],
  ['REMAINING', (l) => (l.remaining === null ? '' : String(l.remaining))],
  ['REFILL', (l) => (l.refill ? `${l.refill.amount} every ${l.refill.interval_seconds}s` : '')],
  ['EXPIRES', (l) => minute(l.expires_at) ?? 'never'],
];

/** `limits list|set|remove`. */
export function registerLimitCommands(program: Command): void {
  const limits = program.command('limits').description("an agent's usage limits and their current use");

  limits
    .command('list <agent>')
    .description('each limit and its current use (counters are saved every second)')
    .option('--json', JSON_HELP)
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const { data } = await contextOf(command).api().call('listLimits', { params: { name } });
      if (options.json) printJson(data);
      else printTable(data, columns);
    });

  limits
    .command('set <agent>')
    .description('set the limit of the agent, one of its keys (--key) or its use of a connection (--connection)')
    .option('--key <key-id>', 'limit this key of the agent')
    .option('--connection <name>', "limit the agent's use of this connection")
    .option('--window <name=requests/length>', 'a window, e.g. minute=60/1m; repeatable', windowOption)
    .option('--remaining <uses>', 'uses left', integer(0, 1_000_000_000))
    .option('--refill <uses/length>', 'set the uses left back to this every interval, e.g. 100/1d', refillOption)
    .option('--expires <timestamp>', 'refuse every use after this (ISO 8601)', timestampOption)
    .option('--json', 'print the limit as JSON')
    .action(
      async (
        name: string,
        options: {
          key?: string;
          connection?: string;
          window?: LimitWindow[];
          remaining?: number;
          refill?: { amount: number; interval_seconds: number };
          expires?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const { data } = await contextOf(command)
          .api()
          .call('setLimit', {
            params: { name },
            body: {
              key_id: options.key,
              connection: options.connection,
              windows: options.window,
              remaining: options.remaining,
              refill: options.refill,
              expires_at: options.expires,
            },
          });
        if (options.json) printJson(data);
        else printTable([data], columns);
      },
    );

  limits
    .command('remove <agent> <limit-id>')
    .description('remove a limit and its counters')
    .action(async (name: string, limitId: string, _options: unknown, command: Command) => {
      await contextOf(command)
        .api()
        .call('deleteLimit', { params: { name, limit_id: limitId } });
      console.log(`Removed limit ${limitId}.`);
    });
}
