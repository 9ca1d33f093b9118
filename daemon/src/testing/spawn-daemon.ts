import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DiscoveryFile } from '@gatehouse/shared';

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
    env: { ...process.env, ...env, ...(options.privateKeyringAddressFile ? { GATEHOUSE_PRIVATE_KEYRING: '1' } : {}) },
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
