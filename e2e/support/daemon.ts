import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

export const ADMIN = { username: 'admin', password: 'correct horse battery staple' };

/** Screenshots of every screen, for people to look at (git-ignored). */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync('e2e/artifacts', { recursive: true });
  await page.screenshot({ path: `e2e/artifacts/${name}.png`, fullPage: true });
}

/** Signs in through the console's own form (each test has a fresh browser context). */
export async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export interface E2eDaemon {
  url: string;
  home: string;
  /** Names plaintext secrets the test typed or was shown, for `stop` to look for at rest. */
  secrets(...plaintexts: string[]): void;
  /**
   * Stops the daemon, then fails if any named plaintext (or the admin's password) is in its
   * database, write-ahead log or log files, as it is or percent-encoded as in a query string.
   */
  stop(): Promise<void>;
}

/** Which of `plaintexts` the files at rest in `home` hold, by position, never by value. */
function plaintextsAtRest(home: string, plaintexts: string[]): string[] {
  const logs = join(home, 'logs');
  const files = [
    ...['gatehouse.db', 'gatehouse.db-wal'].map((name) => join(home, name)),
    ...(existsSync(logs) ? readdirSync(logs).map((name) => join(logs, name)) : []),
  ].filter((file) => existsSync(file));
  const bytes = Buffer.concat(files.map((file) => readFileSync(file)));
  return plaintexts.flatMap((plaintext, i) =>
    [plaintext, encodeURIComponent(plaintext)].some((form) => bytes.includes(form))
      ? [`secret #${i} (${plaintext.length} characters)`]
      : [],
  );
}

/**
 * A real gatehoused on a temp home, a free port and a test-only keychain service: the built one
 * (`npm run build`), run by the `gatehouse` command as users run it, serving the built console.
 */
export async function startDaemon(): Promise<E2eDaemon> {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['daemon/bin/gatehouse.js', 'daemon', '--port', '0', '--home', home, '--quiet'],
    {
      env: { ...process.env, GATEHOUSE_KEYCHAIN_SERVICE: `gatehouse-e2e-${randomBytes(4).toString('hex')}` },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const discovery = join(home, 'daemon.json');
  for (let waited = 0; ; waited += 100) {
    if (existsSync(discovery)) {
      const { url } = JSON.parse(readFileSync(discovery, 'utf8')) as { url: string };
      if ((await fetch(`${url}/healthz`).catch(() => null))?.ok) {
        const plaintexts = [ADMIN.password];
        return {
          url,
          home,
          secrets: (...more) => void plaintexts.push(...more),
          async stop() {
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
            const found = plaintextsAtRest(home, plaintexts);
            rmSync(home, { recursive: true, force: true });
            if (found.length > 0) throw new Error(`plaintext at rest in the daemon's files: ${found.join(', ')}`);
          },
        };
      }
    }
    if (child.exitCode !== null || waited > 30_000) throw new Error('the daemon did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
