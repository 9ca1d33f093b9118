import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DiscoveryFile } from '../../shared/src/index.js';
import { StartupError } from './errors.js';

export const DISCOVERY_FILE = 'daemon.json';

/** `daemon.json` tells the desktop app and the CLI where a live daemon for this data dir listens. */
export function readDiscovery(home: string): DiscoveryFile | null {
  try {
    return JSON.parse(readFileSync(join(home, DISCOVERY_FILE), 'utf8')) as DiscoveryFile;
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

/**
 * Refuses to start a second daemon on the same data dir; a file left by a dead process is
 * stale and removed. Returns whether a stale file was replaced.
 */
export function claimDiscovery(home: string): { replacedStale: boolean } {
  const existing = readDiscovery(home);
  if (!existing) return { replacedStale: false };
  if (isProcessAlive(existing.pid)) {
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
