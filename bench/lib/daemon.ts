import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../../daemon/src/home.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The installed command, running the compiled daemon (`npm run build`): what users run. Another
 * build's entry (a copy of `out/main/daemon.js` kept inside the checkout, so its externals still
 * resolve from node_modules) can be named in `GATEHOUSE_BENCH_COMMAND` to measure it against this one.
 */
const GATEHOUSE = process.env.GATEHOUSE_BENCH_COMMAND ?? join(REPO, 'daemon/bin/gatehouse.js');

export const ADMIN = { username: 'bench-admin', password: 'bench admin passphrase' } as const;

/** A keychain service of the run's own, so a bench never touches another instance's secrets. */
export const benchKeychainService = () => `gatehouse-bench-${randomBytes(4).toString('hex')}`;

export interface ApiResponse<T> {
  status: number;
  body: T;
  bytes: number;
}

export interface BenchDaemon {
  url: string;
  pid: number;
  /** Spawn to the first 200 on /healthz, in milliseconds. */
  startMs: number;
  request<T = unknown>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown },
  ): Promise<ApiResponse<T>>;
  /** Resident set size from /proc/<pid>/status, in MiB. */
  rssMb(): number;
  stop(): Promise<void>;
}

export interface StartOptions {
  keychainService: string;
  /** Extra Node flags for the daemon (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Extra environment (team mode: `GATEHOUSE_DATABASE_URL`, the database secret store and its key). */
  env?: Record<string, string>;
}

/**
 * Starts `gatehouse daemon --port 0` on `home` with the default flags (log level info, request
 * logging on: measured as shipped) and resolves once /healthz answers 200.
 */
export async function startDaemon(home: string, options: StartOptions): Promise<BenchDaemon> {
  const started = performance.now();
  // With the flags the desktop app and the service units launch it with: measured as shipped.
  const args = [...DAEMON_NODE_FLAGS, ...(options.nodeArgs ?? []), GATEHOUSE, 'daemon', '--port', '0'];
  const child = spawn(process.execPath, args, {
    cwd: REPO,
    env: {
      ...process.env,
      GATEHOUSE_HOME: home,
      GATEHOUSE_KEYCHAIN_SERVICE: options.keychainService,
      ...options.env,
    },
    // stdout is the one line for people: discarded, as a supervisor would.
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exitCode: number | string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? signal;
      resolve();
    }),
  );

  const url = await waitForHealthy(
    home,
    () => exitCode,
    () => stderr,
  );
  const startMs = performance.now() - started;

  const request = async <T>(
    method: string,
    path: string,
    { token, body }: { token?: string; body?: unknown } = {},
  ): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(url + path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T, bytes: Buffer.byteLength(text) };
  };

  return {
    url,
    pid: child.pid!,
    startMs,
    request,
    rssMb: () => rssMb(child.pid!),
    async stop() {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Polls `daemon.json` for the port, then `/healthz`, every 5 ms. */
async function waitForHealthy(
  home: string,
  exitCode: () => number | string | null,
  stderr: () => string,
): Promise<string> {
  const deadline = Date.now() + 30_000;
  const discovery = join(home, 'daemon.json');
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`the daemon exited (${exitCode()}): ${stderr()}`);
    if (existsSync(discovery)) {
      const { url } = JSON.parse(readFileSync(discovery, 'utf8')) as { url: string };
      const health = await fetch(`${url}/healthz`).catch(() => null);
      if (health?.status === 200) return url;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`the daemon did not become healthy in 30 s: ${stderr()}`);
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** First-run setup (the admin and the default project) on a fresh home. */
export async function setupAdmin(daemon: BenchDaemon): Promise<void> {
  const setup = await daemon.request('POST', '/auth/setup', { body: ADMIN });
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
}

/** Signs the bench admin in; returns an access token (15 minutes). */
export async function login(daemon: BenchDaemon): Promise<string> {
  const response = await daemon.request<{ access_token: string }>('POST', '/auth/login', { body: ADMIN });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.access_token;
}

/** Throws unless `response` has the expected status. */
export function expectStatus<T>(response: ApiResponse<T>, status: number, what: string): T {
  if (response.status !== status)
    throw new Error(`${what}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}
