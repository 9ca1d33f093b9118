import type { Command } from 'commander';
import type { Whoami } from '@gatehouse/shared';
import { ApiClient } from '../api-client.js';
import { contextOf, type CliContext } from '../context.js';
import { ApiError, UsageError } from '../errors.js';
import { printFields, printJson } from '../output.js';
import { ask } from '../prompt.js';
import { NotSignedInError } from '../session.js';

/** `status`, `login`, `logout`. */
export function registerSessionCommands(program: Command): void {
  program
    .command('status')
    .description('the daemon (address, version, keychain backend) and who is signed in')
    .option('--json', 'print {daemon, whoami}: the daemon status and the caller, as the API answers them')
    .action(async (options: { json?: boolean }, command: Command) => {
      const context = contextOf(command);
      const url = context.daemonUrl();
      const { data: daemon } = await new ApiClient(url).call('status', {});
      const whoami = await signedIn(context);
      if (options.json) return printJson({ daemon, whoami });
      printFields([
        ['daemon', `${url} (gatehoused ${daemon.version}, up ${daemon.uptime_seconds} s)`],
        ['data', daemon.data_dir],
        ['database', daemon.db.ok ? `${daemon.db.path} (ok)` : `${daemon.db.path} (NOT ok)`],
        [
          'keychain',
          `${daemon.keychain.description} (${daemon.keychain.health})${daemon.keychain.detail ? `: ${daemon.keychain.detail}` : ''}`,
        ],
        ['signed in', describe(whoami)],
      ]);
    });

  program
    .command('login')
    .description('sign in (asks for a TOTP code when the account has MFA on); the session is kept in the OS keychain')
    .option('-u, --username <name>', 'username or email (asked when absent)')
    .option('--password-stdin', 'read the password (then the TOTP code, if asked) from stdin, a line each; needs -u')
    .addHelpText(
      'after',
      '\nOn a terminal the password is asked without echo. Otherwise the answers are read from stdin, one per line:\n' +
        '  printf \'%s\\n\' "$PASSWORD" "$TOTP_CODE" | gatehouse login -u admin --password-stdin\n' +
        'Scripts can instead use a personal API token in GATEHOUSE_TOKEN, with no login.',
    )
    .action(async (options: { username?: string; passwordStdin?: boolean }, command: Command) => {
      // stdin holds the password then: the username cannot be asked for on it as well.
      if (options.passwordStdin && !options.username) throw new UsageError('--password-stdin needs --username.');
      const stdin = options.passwordStdin === true;
      const context = contextOf(command);
      const api = new ApiClient(context.daemonUrl());
      const username = options.username ?? (await ask('Username: '));
      const password = await ask('Password: ', { hidden: true, stdin });
      const tokens = await api.call('login', { body: { username, password } }).catch(async (error: unknown) => {
        if (!(error instanceof ApiError && error.code === 'mfa_required')) throw error;
        const totp_code = await ask('Two-factor code: ', { stdin });
        return api.call('login', { body: { username, password, totp_code } });
      });
      const session = context.session();
      // A previous session of this CLI would otherwise stay valid on the daemon, unseen, for 30 days.
      await session.end().catch(() => false);
      await session.save(tokens.data);
      console.error(`Signed in to ${api.url} as ${username}; the session is kept in the OS keychain.`);
    });

  program
    .command('logout')
    .description('end the session on the daemon and remove it from the OS keychain')
    .action(async (_options, command: Command) => {
      const ended = await contextOf(command).session().end();
      console.error(ended ? 'Signed out.' : 'Not signed in.');
    });
}

/** The signed-in caller, or null when no session (or token) is there. */
async function signedIn(context: CliContext): Promise<Whoami | null> {
  try {
    return (await context.api().call('whoami', {})).data;
  } catch (error) {
    if (error instanceof NotSignedInError) return null;
    throw error;
  }
}

function describe(whoami: Whoami | null): string {
  if (!whoami) return 'no (gatehouse login)';
  if (whoami.principal === 'user')
    return `${whoami.user.username} (${whoami.user.role}${whoami.via === 'personal_token' ? ', personal token' : ''}), project ${whoami.project.slug}`;
  if (whoami.principal === 'agent') return `agent ${whoami.agent.name} (GATEHOUSE_TOKEN holds an agent credential)`;
  return `agent user ${whoami.identity.username}`;
}
