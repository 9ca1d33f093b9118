import { Command, Option } from 'commander';
import { CliError } from './cli/errors.js';
import { registerCommands } from './cli/program.js';
import { resolveConfig } from './config.js';
import { ProblemError, StartupError } from './errors.js';
import { VERSION } from './package-info.js';

/** `gatehouse daemon …`: runs gatehoused in the foreground until SIGINT/SIGTERM. */
async function runDaemon(options: Record<string, string | string[] | boolean | undefined>): Promise<void> {
  let daemon;
  try {
    const config = resolveConfig({
      home: options.home as string | undefined,
      database: options.database as string | undefined,
      host: options.host as string | undefined,
      port: options.port as string | undefined,
      secretStore: options.secretStore as string | undefined,
      kekFile: options.kekFile as string | undefined,
      previousKekFile: options.previousKekFile as string | undefined,
      allowRemote: options.allowRemote === true,
      allowOrigins: options.allowOrigin as string[],
      allowSignup: options.allowSignup === true,
      tlsCert: options.tlsCert as string | undefined,
      tlsKey: options.tlsKey as string | undefined,
      logLevel: options.logLevel as string | undefined,
      logMaxSize: options.logMaxSize as string | undefined,
      logMaxFiles: options.logMaxFiles as string | undefined,
    });
    // Loaded here, not at the top: the CLI's other commands start faster without the server's modules.
    const { startDaemon } = await import('./daemon.js');
    daemon = await startDaemon(config);
    // For a person at a terminal; supervisors pass --quiet and read daemon.json.
    if (options.quiet !== true) {
      console.log(
        `gatehoused ${VERSION} listening on ${daemon.url}, console at ${daemon.url}/ — data and log in ${config.home}; ` +
          `secrets in the ${daemon.services.secrets.description}`,
      );
    }
  } catch (error) {
    console.error(
      `gatehoused: ${error instanceof StartupError ? error.message : `failed to start: ${(error as Error).message}`}`,
    );
    process.exit(1);
  }

  let signals = 0;
  const stop = (signal: string) => {
    // A second signal means "now": skip the graceful path.
    if (++signals > 1) process.exit(1);
    console.error(`gatehoused: ${signal}, shutting down`);
    daemon.close().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`gatehoused: shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

const program = new Command('gatehouse')
  .description('Gatehouse: credentials for the AI agents on this machine')
  .version(VERSION);
// Set before any subcommand exists: commander copies these settings into subcommands as they are created.
// A usage error: one line naming it, a pointer to --help, exit code 2 (help and --version exit 0).
program.showHelpAfterError('(see --help)');
program.configureOutput({ outputError: (text, write) => write(`gatehouse: ${text.replace(/^error: /, '')}`) });
program.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command('daemon')
  .description('run gatehoused, the local API daemon, in the foreground')
  .option('--port <port>', 'port on 127.0.0.1 (0 picks a free one) [env GATEHOUSE_PORT, default 7420]')
  .option('--home <dir>', 'data directory [env GATEHOUSE_HOME, default: the platform app-data dir]')
  .option(
    '--database <url>',
    'team mode: keep the data in PostgreSQL, postgres://user:password@host:port/db [env GATEHOUSE_DATABASE_URL; default: SQLite in --home]',
  )
  .addOption(
    new Option('--secret-store <kind>', 'where secrets live [env GATEHOUSE_SECRET_STORE]').choices([
      'keychain',
      'file',
      'database',
    ]),
  )
  .option(
    '--kek-file <file>',
    'with --secret-store database: the key-encryption key, 32 bytes in base64 [env GATEHOUSE_KEK_FILE or GATEHOUSE_KEK]',
  )
  .option(
    '--previous-kek-file <file>',
    'rotate: re-wrap every data key from this old key to --kek-file at start [env GATEHOUSE_PREVIOUS_KEK_FILE]',
  )
  .option('--host <host>', 'address to bind (non-loopback needs --allow-remote and TLS)')
  .option('--allow-remote', 'allow a non-loopback --host')
  .option(
    '--allow-origin <origin>',
    'a browser origin whose pages may call the API (CORS); repeatable; default none',
    (origin: string, earlier: string[]) => [...earlier, origin],
    [] as string[],
  )
  .option('--tls-cert <file>', 'TLS certificate (PEM)')
  .option('--tls-key <file>', 'TLS private key (PEM)')
  .option('--allow-signup', "let anyone create a user (a viewer in no project) with OTAS's POST /api/user/v1/create/")
  .option('--log-level <level>', 'trace, debug, info, warn or error [env GATEHOUSE_LOG_LEVEL]')
  .option(
    '--log-max-size <size>',
    'rotate the log at this size: 10m, 512k, 1g [env GATEHOUSE_LOG_MAX_SIZE, default 10m]',
  )
  .option('--log-max-files <n>', 'log files kept, the current one included [env GATEHOUSE_LOG_MAX_FILES, default 5]')
  .option('--quiet', 'print nothing on stdout (the log file gets everything either way)')
  // `--home` is also a global option of the CLI's other commands: read it from either place.
  .action((_options, command: Command) => runDaemon(command.optsWithGlobals()));

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Every failure is one line: the daemon's problem detail, or what went wrong here.
  if (error instanceof CliError) {
    console.error(`gatehouse: ${error.message}`);
    process.exit(error.exitCode);
  }
  const known = error instanceof ProblemError || error instanceof StartupError;
  console.error(`gatehouse: ${known ? '' : 'unexpected error: '}${(error as Error).message}`);
  process.exit(1);
}
