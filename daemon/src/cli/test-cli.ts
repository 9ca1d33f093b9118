import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDaemon } from '../testing/test-daemon.js';
import { homeDatabaseUrl } from '../testing/spawn-daemon.js';

/* Test harness: runs `gatehouse …` from source in a child process, as a user would. */

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Extra environment (e.g. GATEHOUSE_TOKEN); the test daemon's home and keychain are always set. */
  env?: Record<string, string>;
  stdin?: string;
  /** Called with everything printed so far, each time stdout grows. */
  onStdout?: (stdout: string, child: ChildProcess) => void;
}

/** The environment a user of `t` would have: its data dir and keychain service, nothing inherited that picks a daemon or credential. */
export function cliEnv(
  t: Pick<TestDaemon, 'home' | 'keychainService' | 'databaseUrl'>,
  extra: Record<string, string> = {},
) {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('GATEHOUSE_')) delete env[name];
  // A harness daemon's own database, or (on PostgreSQL) the one a daemon spawned on this home uses.
  const databaseUrl = t.databaseUrl ?? homeDatabaseUrl(t.home);
  return {
    ...env,
    GATEHOUSE_HOME: t.home,
    GATEHOUSE_KEYCHAIN_SERVICE: t.keychainService,
    ...(databaseUrl ? { GATEHOUSE_DATABASE_URL: databaseUrl } : {}),
    ...extra,
  };
}

export function startCli(
  t: Pick<TestDaemon, 'home' | 'keychainService' | 'databaseUrl'>,
  args: string[],
  options: CliOptions = {},
) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: cliEnv(t, options.env) });
  const run: CliRun = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    run.stdout += chunk.toString();
    options.onStdout?.(run.stdout, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  const done = new Promise<CliRun>((resolve) => child.once('close', (code) => resolve({ ...run, code })));
  return { child, done };
}

export const gatehouse = (
  t: Pick<TestDaemon, 'home' | 'keychainService' | 'databaseUrl'>,
  args: string[],
  options: CliOptions = {},
) => startCli(t, args, options).done;
