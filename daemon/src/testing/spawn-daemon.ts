import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiscoveryFile } from '@gatehouse/shared';
import { testDatabaseServer } from './test-database.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO, 'daemon/src/main.ts');

export interface SpawnedDaemon {
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Whether the daemon runs under a wrapper (its pid is not the child's). */
  wrapped: boolean;
}

export interface SpawnOptions {
  /**
   * Runs the child in a Secret Service of its own (scripts/with-keyring.sh) and writes that
   * session's D-Bus address to this file, so a test can lock the child's keychain without
   * touching the one other tests share.
   */
  privateKeyringAddressFile?: string;
  /** With `privateKeyringAddressFile`: locks that keyring's login collection before the daemon starts. */
  lockKeyringFirst?: boolean;
}

const LOCK_LOGIN_COLLECTION =
  'dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets ' +
  'org.freedesktop.Secret.Service.Lock array:objpath:/org/freedesktop/secrets/collection/login >/dev/null &&';

/**
 * With GATEHOUSE_TEST_DATABASE_URL, the PostgreSQL database of a daemon spawned on `home` (and of
 * the CLI beside it): one per home, so a restart on the same home finds its data, made empty on
 * first use; the throwaway server goes with its databases at the end of the run.
 */
export function homeDatabaseUrl(home: string): string | undefined {
  const server = testDatabaseServer();
  if (!server) return undefined;
  const name = `gatehouse_test_home_${createHash('sha256').update(home).digest('hex').slice(0, 16)}`;
  execFileSync('/usr/lib/postgresql/15/bin/psql', [server, '-qAt', '-v', 'ON_ERROR_STOP=1'], {
    input: `SELECT 'CREATE DATABASE ${name}' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${name}')\\gexec\n`,
  });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.href;
}

function databaseOfHome(args: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const home = args.includes('--home') ? args[args.indexOf('--home') + 1] : env.GATEHOUSE_HOME;
  const url = home && env.GATEHOUSE_DATABASE_URL === undefined ? homeDatabaseUrl(home) : undefined;
  return url ? { GATEHOUSE_DATABASE_URL: url } : {};
}

/** Runs `gatehouse <args>` from source in a child process, as a user would run it. */
export function spawnGatehouse(args: string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): SpawnedDaemon {
  const command = [process.execPath, '--import', 'tsx', MAIN, ...args];
  const [file, ...argv] = options.privateKeyringAddressFile
    ? [
        join(REPO, 'scripts/with-keyring.sh'),
        'bash',
        '-c',
        `printf %s "$DBUS_SESSION_BUS_ADDRESS" > "$0" && ${options.lockKeyringFirst ? LOCK_LOGIN_COLLECTION : ''} exec "$@"`,
        options.privateKeyringAddressFile,
        ...command,
      ]
    : command;
  const child = spawn(file!, argv, {
    cwd: REPO,
    env: {
      ...process.env,
      ...env,
      ...databaseOfHome(args, env),
      ...(options.privateKeyringAddressFile ? { GATEHOUSE_PRIVATE_KEYRING: '1' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, output: () => output, exited, wrapped: options.privateKeyringAddressFile !== undefined };
}

/**
 * Polls until `daemon.json` in `home` names the child's pid (any pid for a wrapped child) and
 * `/healthz` answers.
 */
export async function waitForDaemon(home: string, spawned: SpawnedDaemon, timeoutMs = 20_000): Promise<DiscoveryFile> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | string | undefined;
  void spawned.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`daemon exited (${exitCode}): ${spawned.output()}`);
    const file = join(home, 'daemon.json');
    if (existsSync(file)) {
      const info = JSON.parse(readFileSync(file, 'utf8')) as DiscoveryFile;
      if (info.pid === spawned.child.pid || spawned.wrapped) {
        const health = await fetch(`${info.url}/healthz`).catch(() => null);
        if (health?.ok) return info;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`daemon did not become healthy: ${spawned.output()}`);
}
