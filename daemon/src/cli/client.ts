import { join } from 'node:path';
import keytar from 'keytar';
import sqlite3 from 'sqlite3';
import { buildPath, routes, type RouteName, type TokenPair } from '../../../shared/src/index.js';
import { defaultHome } from '../config.js';
import { isProcessAlive, readDiscovery } from '../discovery.js';
import { DB_FILE } from '../storage/database.js';

/** An error the CLI reports as one line and exit code 1. */
export class CliError extends Error {}

export interface Place {
  home: string;
  keychainService: string;
}

export const place = (home?: string): Place => ({
  home: home ?? process.env.GATEHOUSE_HOME ?? defaultHome(),
  keychainService: process.env.GATEHOUSE_KEYCHAIN_SERVICE || 'gatehouse',
});

/** The daemon's URL: `--url`, else `GATEHOUSE_URL`, else the live daemon of the data dir (`daemon.json`). */
export function daemonUrl(where: Place, url?: string): string {
  const given = url ?? process.env.GATEHOUSE_URL;
  if (given) return given.replace(/\/+$/, '');
  const discovery = readDiscovery(where.home);
  if (!discovery || !isProcessAlive(discovery.pid))
    throw new CliError(
      `no Gatehouse daemon is running for ${where.home}: start it with \`gatehouse daemon\` (or pass --url).`,
    );
  return discovery.url;
}

const sessionAccount = (url: string) => `cli-session:${url}`;

export interface Request {
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  project?: string;
  token?: string;
}

/** Calls a contract route; a problem answer becomes a CliError carrying its `detail`. */
export async function request<T = unknown>(
  url: string,
  route: RouteName,
  options: Request = {},
): Promise<{ data: T; total: number | null }> {
  const descriptor = routes[route];
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {}))
    if (value !== undefined) query.set(key, String(value));
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.project) headers['x-project-id'] = options.project;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${url}${buildPath(descriptor.path, options.params)}${query.size ? `?${query}` : ''}`, {
      method: descriptor.method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
  } catch {
    throw new CliError(`cannot reach the Gatehouse daemon at ${url}.`);
  }
  const body: unknown = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const problem = body as { detail?: string; code?: string } | null;
    throw Object.assign(new CliError(problem?.detail ?? `the daemon answered ${response.status}`), {
      code: problem?.code,
    });
  }
  const total = response.headers.get('x-total-count');
  return { data: body as T, total: total === null ? null : Number(total) };
}

/** The signed-in session: its refresh token lives in the OS keychain, never in a file. */
export const session = {
  async save(where: Place, url: string, refreshToken: string): Promise<void> {
    await keytar.setPassword(where.keychainService, sessionAccount(url), refreshToken);
  },
  async forget(where: Place, url: string): Promise<boolean> {
    return keytar.deletePassword(where.keychainService, sessionAccount(url));
  },
  /** A fresh access token, rotating the stored refresh token. */
  async accessToken(where: Place, url: string): Promise<string> {
    const refreshToken = await keytar.getPassword(where.keychainService, sessionAccount(url));
    if (!refreshToken) throw new CliError('not signed in: run `gatehouse login` first.');
    const { data } = await request<TokenPair>(url, 'refresh', { body: { refresh_token: refreshToken } }).catch(
      async (error: Error) => {
        await this.forget(where, url);
        throw new CliError(`the session has ended (${error.message}); run \`gatehouse login\` again.`);
      },
    );
    await this.save(where, url, data.refresh_token);
    return data.access_token;
  },
};

/** `project/agent` → its parts. */
export function agentRef(ref: string): { project: string; agent: string } {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1)
    throw new CliError(`name the agent as <project>/<agent>, e.g. default/${ref}.`);
  return { project: ref.slice(0, slash), agent: ref.slice(slash + 1) };
}

/** The agent's API key from the OS keychain: no daemon needed. */
export async function agentKey(where: Place, ref: string): Promise<string> {
  const { project, agent } = agentRef(ref);
  const key = await keytar.getPassword(where.keychainService, `agent:${project}/${agent}`);
  if (!key) throw new CliError(`no key for ${project}/${agent} in the keychain (service "${where.keychainService}").`);
  return key;
}

/** The agent's id, read from the database file itself (read-only): works with the daemon stopped. */
export function agentId(where: Place, ref: string): Promise<string> {
  const { project, agent } = agentRef(ref);
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(join(where.home, DB_FILE), sqlite3.OPEN_READONLY, (error) => {
      if (error) return reject(new CliError(`cannot read the Gatehouse database in ${where.home}.`));
      db.get(
        'SELECT a.id AS id FROM agents a JOIN projects p ON p.id = a.project_id WHERE p.slug = ? AND a.name = ?',
        [project, agent],
        (queryError, row: { id: string } | undefined) => {
          db.close();
          if (queryError) reject(new CliError(`cannot read the Gatehouse database: ${queryError.message}`));
          else if (!row) reject(new CliError(`no agent ${project}/${agent}.`));
          else resolve(row.id);
        },
      );
    });
  });
}
