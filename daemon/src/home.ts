import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { DiscoveryFile } from '@gatehouse/shared';
import { StartupError } from './errors.js';

/*
 * The data directory and its discovery file, for every program that looks for the daemon: the
 * daemon itself, the CLI and the desktop app (the package's public `@gatehouse/daemon/home`).
 */

/** The database's file name in the data directory. */
export const DB_FILE = 'gatehouse.db';
export const DISCOVERY_FILE = 'daemon.json';

/**
 * The log being written: a link to the newest of the rotated files `logs/gatehoused.<n>.log`
 * (see logging.ts), so a person or the desktop app can open one path.
 */
export const currentLogFile = (home: string): string => join(home, 'logs', 'current.log');

/** The platform's app-data directory for Gatehouse (SPEC §1). */
export function defaultHome(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Gatehouse');
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Gatehouse');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'gatehouse');
}

/** `GATEHOUSE_HOME`, else the platform's default. */
export const homeFrom = (env: NodeJS.ProcessEnv = process.env): string => env.GATEHOUSE_HOME || defaultHome(env);

/**
 * `daemon.json` tells the desktop app and the CLI where a live daemon for this data dir listens;
 * anything unreadable or malformed counts as no daemon.
 */
export function readDiscovery(home: string): DiscoveryFile | null {
  try {
    const info: unknown = JSON.parse(readFileSync(join(home, DISCOVERY_FILE), 'utf8'));
    return Value.Check(DiscoveryFile, info) ? info : null;
  } catch {
    return null;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether something accepts connections at `url`'s host and port (HTTP or TLS alike). */
function listening(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port), timeout: 1000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * Refuses to start a second daemon on the same data dir; a file left by a dead daemon is stale
 * and removed. A daemon writes the file once it listens and removes it when it exits, so a live
 * one has both its pid and its port: a live pid alone is another program that reused a dead
 * daemon's pid (containers restart with the same few pids). Returns whether a stale file went.
 */
export async function claimDiscovery(home: string): Promise<{ replacedStale: boolean }> {
  const existing = readDiscovery(home);
  if (!existing) return { replacedStale: false };
  if (isProcessAlive(existing.pid) && (await listening(existing.url))) {
    throw new StartupError(`gatehoused is already running for ${home} (pid ${existing.pid}, ${existing.url}).`);
  }
  unlinkSync(join(home, DISCOVERY_FILE));
  return { replacedStale: true };
}

/** Written atomically with mode 0600: only the owner may learn where the daemon listens. */
export function writeDiscovery(home: string, info: DiscoveryFile): void {
  const path = join(home, DISCOVERY_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Removes the file if it is still ours (another daemon may have replaced a stale one). */
export function removeDiscovery(home: string, pid = process.pid): void {
  if (readDiscovery(home)?.pid !== pid) return;
  try {
    unlinkSync(join(home, DISCOVERY_FILE));
  } catch {
    // already gone
  }
}

/**
 * The Node flags every launcher of the daemon passes (the desktop app's fork, the service units in
 * packaging/, scripts/start.sh; packaging.test.ts checks the files): V8 sizes its heap when the
 * process starts, so the daemon cannot set them itself.
 * Semi-spaces of at most 8 MB (V8 grows them to 16 MB under load, 32 MB of young generation in
 * all) keep the daemon's RSS 13-16 MB lower under sustained load, for no CPU per request that the
 * bench can tell apart (B11 in bench/README).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];
