import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
  stop(): Promise<void>;
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
        return {
          url,
          home,
          async stop() {
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            await exited;
            rmSync(home, { recursive: true, force: true });
          },
        };
      }
    }
    if (child.exitCode !== null || waited > 30_000) throw new Error('the daemon did not start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
