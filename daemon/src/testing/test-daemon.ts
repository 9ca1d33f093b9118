import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig, type DaemonConfig } from '../config.js';
import { startDaemon, type RunningDaemon } from '../daemon.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from './test-database.js';

/*
 * Test harness: a real gatehoused on a temp GATEHOUSE_HOME, a real SQLite file (or, with
 * GATEHOUSE_TEST_DATABASE_URL, a fresh PostgreSQL database of its own: see test-database.ts),
 * real HTTP on loopback and, unless a test injects another store, the real OS keychain under a
 * test-only service name. Tests run inside scripts/with-keyring.sh (a private gnome-keyring).
 */

export const ADMIN = { username: 'admin', password: 'correct horse battery staple' } as const;

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  /** A raw body, sent as is (with the headers given). */
  raw?: string;
}

export interface TestDaemon {
  url: string;
  home: string;
  /** The daemon's PostgreSQL database when the tests run on PostgreSQL. */
  databaseUrl?: string;
  keychainService: string;
  daemon: RunningDaemon;
  request<T = any>(method: string, path: string, options?: RequestOptions): Promise<Response<T>>;
  /** Runs first-run setup and signs the admin in; returns the token pair. */
  setupAdmin(): Promise<{ access_token: string; refresh_token: string }>;
  login(username: string, password: string, totp_code?: string): Promise<Response>;
  /** Stops the daemon; the home stays until `dispose`. */
  stop(): Promise<void>;
  /** Starts a new daemon on the same home and keychain service (a restart). */
  restart(): Promise<TestDaemon>;
  /** Stops the daemon and deletes its home (and its PostgreSQL database). */
  dispose(): Promise<void>;
}

export interface TestDaemonOptions {
  home?: string;
  /** A database made by an earlier start (a restart keeps its data). */
  database?: TestDatabase;
  keychainService?: string;
  secrets?: SecretStore;
  config?: Partial<DaemonConfig>;
}

export const testKeychainService = () => `gatehouse-test-${randomBytes(4).toString('hex')}`;

export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const keychainService = options.keychainService ?? testKeychainService();
  const server = testDatabaseServer();
  const database = options.database ?? (server ? await createTestDatabase(server) : undefined);
  const config: DaemonConfig = {
    ...resolveConfig({ home, port: 0 }, { GATEHOUSE_KEYCHAIN_SERVICE: keychainService }),
    ...(database ? { databaseUrl: database.url } : {}),
    logLevel: 'debug',
    ...options.config,
  };
  const daemon = await startDaemon(config, options.secrets ? { secrets: options.secrets } : {}).catch(
    async (error: unknown) => {
      if (!options.database) await database?.drop();
      throw error;
    },
  );

  const request = async <T>(method: string, path: string, opts: RequestOptions = {}): Promise<Response<T>> => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(daemon.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (HTML docs): keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };

  const login = (username: string, password: string, totp_code?: string): Promise<Response> =>
    request('POST', '/auth/login', { body: { username, password, ...(totp_code ? { totp_code } : {}) } });

  const handle: TestDaemon = {
    url: daemon.url,
    home,
    ...(database ? { databaseUrl: database.url } : {}),
    keychainService,
    daemon,
    request,
    login,
    async setupAdmin() {
      const setup = await request('POST', '/auth/setup', { body: ADMIN });
      if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${JSON.stringify(setup.body)}`);
      const tokens = await login(ADMIN.username, ADMIN.password);
      if (tokens.status !== 200) throw new Error(`login failed: ${tokens.status} ${JSON.stringify(tokens.body)}`);
      return tokens.body;
    },
    stop: () => daemon.close(),
    async restart() {
      await daemon.close();
      return startTestDaemon({ ...options, home, keychainService, ...(database ? { database } : {}) });
    },
    async dispose() {
      await daemon.close();
      rmSync(home, { recursive: true, force: true });
      await database?.drop();
    },
  };
  return handle;
}

/** A test daemon after first-run setup, with the admin's access token. */
export async function startWithAdmin(options: TestDaemonOptions = {}): Promise<{ t: TestDaemon; admin: string }> {
  const t = await startTestDaemon(options);
  return { t, admin: (await t.setupAdmin()).access_token };
}

/**
 * An agent's sessions, for tests of what ends them: sign in with its key, refresh a pair, and the
 * actors of its `agent.sessions_revoked` audit entries in order.
 */
export function agentSessions(t: TestDaemon, admin: string, agent: { id: string; agent_key: { api_key: string } }) {
  return {
    signIn: async (): Promise<{ refresh_token: string }> =>
      (await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.agent_key.api_key } }))
        .body,
    refresh: (tokens: { refresh_token: string }) =>
      t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } }),
    revocations: async (): Promise<string[]> =>
      (
        await t.request('GET', `/v1/audit?event_type=agent.sessions_revoked&agent_id=${agent.id}`, { token: admin })
      ).body.map((entry: { actor: string }) => entry.actor),
  };
}
