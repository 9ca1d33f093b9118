import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { AuditEvent } from '@gatehouse/shared';
import { contextOf } from '../context.js';
import { UnreachableError } from '../errors.js';
import { integer } from './options.js';

/** How long to wait before reconnecting to a daemon that ended the event stream (as its `retry:`). */
const RECONNECT_MS = 2000;

const line = (e: AuditEvent) =>
  [e.at, `#${e.sequence_number}`, e.event_type.padEnd(20), e.outcome.padEnd(7), e.actor, e.target ?? '']
    .join('  ')
    .trimEnd();

/** `--type` as the API reads it: an exact type, or a prefix ending in `.*`. */
const matches = (event: AuditEvent, type: string | undefined) =>
  !type || (type.endsWith('.*') ? event.event_type.startsWith(type.slice(0, -1)) : event.event_type === type);

/** `audit tail [--follow]`. */
export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log');

  audit
    .command('tail')
    .description('the latest audit events, oldest first; --follow keeps printing new ones as they happen')
    .option('-n, --lines <n>', 'how many recent events', integer(1, 1000), 20)
    .option('--type <event-type>', 'only this event type, or a prefix such as auth.*')
    .option('-f, --follow', 'keep printing events as they happen (Ctrl-C to stop)')
    .option('--json', "print each event as one line of the contract's JSON")
    .action(async (options: { lines: number; type?: string; follow?: boolean; json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const show = (event: AuditEvent) => console.log(options.json ? JSON.stringify(event) : line(event));
      const { data } = await context
        .api()
        .call('listAudit', { query: { limit: options.lines, event_type: options.type } });
      // The API answers newest first; a tail reads oldest first.
      [...data].reverse().forEach(show);
      if (!options.follow) return;

      let last = data[0]?.sequence_number;
      let reconnecting = false;
      for (;;) {
        try {
          // Found again each time: a daemon restarted with --port 0 listens somewhere else.
          for await (const message of context.api().events(last)) {
            reconnecting = false;
            const event = JSON.parse(message.data) as AuditEvent;
            last = event.sequence_number;
            if (matches(event, options.type)) show(event);
          }
        } catch (error) {
          // A daemon that is gone may be restarting: keep trying. Any other failure ends the command.
          if (!(error instanceof UnreachableError)) throw error;
        }
        // Ended by a daemon restart or shutdown: pick up after the last event seen.
        if (!reconnecting) console.error('gatehouse: the event stream ended; reconnecting…');
        reconnecting = true;
        await sleep(RECONNECT_MS);
      }
    });
}
