import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import sqlite3 from 'sqlite3';
import { v7 as uuidv7 } from 'uuid';
import { DB_FILE } from '../../daemon/src/home.js';
import { BASE62, checksumOf, PREFIX_LENGTH, RANDOM_LENGTH } from '@gatehouse/shared';
import { thousands } from './report.js';
import { benchKeychainService, REPO, setupAdmin, startDaemon } from './daemon.js';

/** Bump when the seeded content changes, so cached databases are rebuilt. */
const SEED_VERSION = 1;
const SEED = 'gatehouse-bench';
export const CACHE_DIR = join(REPO, 'bench/.cache');
const DAY_MS = 86_400_000;
/** Seeded agents are created one second apart from this moment, so id order is creation order. */
const EPOCH = Date.parse('2026-01-01T00:00:00.000Z');

/**
 * Deterministic bytes: sha-256 over the seed and a counter. Not for secrets — for reproducible
 * benchmark data that has the shape and entropy of the real thing.
 */
export class SeededBytes {
  private counter = 0;
  private pool = Buffer.alloc(0);

  constructor(private readonly seed: string) {}

  take(length: number): Buffer {
    while (this.pool.length < length) {
      const block = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
      this.pool = Buffer.concat([this.pool, block]);
    }
    const out = this.pool.subarray(0, length);
    this.pool = this.pool.subarray(length);
    return out;
  }

  /** Uniform base62, by rejection sampling as the daemon's `randomBase62` does. */
  base62(length: number): string {
    let out = '';
    while (out.length < length) {
      for (const byte of this.take(length)) if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
    return out;
  }

  /** A well-formed agent key (`agent_<prefix>_<32 random><6 checksum>`), as the daemon issues. */
  agentKey(): { plaintext: string; prefix: string } {
    const prefix = this.base62(PREFIX_LENGTH);
    const unchecked = `agent_${prefix}_${this.base62(RANDOM_LENGTH)}`;
    return { plaintext: unchecked + checksumOf(unchecked), prefix };
  }
}

const sha256Hex = (value: string | Buffer) => createHash('sha256').update(value).digest('hex');

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A real Ed25519 public key (PEM) and its fingerprint, derived from seeded bytes. */
function identity(bytes: SeededBytes): { publicPem: string; fingerprint: string } {
  const privateKey = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_HEADER, bytes.take(32)]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey(privateKey);
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: `sha256:${sha256Hex(publicKey.export({ type: 'spki', format: 'der' }))}`,
  };
}

/** The migrations a database was made with: a cached file is rebuilt when they change. */
function schemaTag(): string {
  const names = readdirSync(join(REPO, 'daemon/src/storage/migrations')).sort().join('\n');
  return sha256Hex(names).slice(0, 12);
}

/**
 * A database file with the bench admin and `agents` agents (2 keys each) in the default project,
 * built once and cached in bench/.cache. Callers copy it into a home of their own.
 */
export async function seededDatabase(agents: number, log: (line: string) => void): Promise<string> {
  const cached = join(CACHE_DIR, `agents-${agents}-v${SEED_VERSION}-${schemaTag()}.db`);
  if (existsSync(cached)) return cached;

  log(`seeding ${agents} agents / ${agents * 2} keys (cached afterwards in ${CACHE_DIR})…`);
  const started = Date.now();
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-bench-seed-'));
  try {
    // The real schema: the daemon runs its migrations and first-run setup, then stops.
    const daemon = await startDaemon(home, { keychainService: benchKeychainService() });
    await setupAdmin(daemon);
    await daemon.stop();

    await insertAgents(join(home, DB_FILE), agents);
    mkdirSync(CACHE_DIR, { recursive: true });
    copyFileSync(join(home, DB_FILE), `${cached}.tmp`);
    renameSync(`${cached}.tmp`, cached);
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return cached;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * The fast path: one transaction of prepared statements on one sqlite3 connection. Statements
 * are queued without awaiting each (sqlite3 runs them in order), so the cost is SQLite's own.
 */
async function insertAgents(path: string, count: number): Promise<void> {
  const db = new sqlite3.Database(path);
  const exec = (sql: string) =>
    new Promise<void>((resolve, reject) => db.exec(sql, (e) => (e ? reject(e) : resolve())));
  const get = <T>(sql: string) =>
    new Promise<T>((resolve, reject) => db.get(sql, (e: Error | null, row: T) => (e ? reject(e) : resolve(row))));

  const project = await get<{ id: string }>(`SELECT id FROM projects WHERE slug = 'default'`);
  const admin = await get<{ id: string }>(`SELECT id FROM users WHERE role = 'super_admin'`);
  await exec('BEGIN');
  const agentInsert = db.prepare(`INSERT INTO agents (id, project_id, name, description, provider, backend, model,
    allowed_tools, approval_required_tools, capability_role, scopes, status, permissions_version,
    on_permission_change, public_key, key_fingerprint, created_by, created_at, updated_at, revoked_at)
    VALUES (?, ?, ?, ?, 'openai', 'gpt-4o', 'gpt-4o', '[]', '[]', 'worker', '[]', ?, 1, 'notify', ?, ?, ?, ?, ?, ?)`);
  const keyInsert = db.prepare(`INSERT INTO agent_keys (id, agent_id, label, prefix, secret_hash, last_four, scopes,
    created_at, expires_at, revoked_at, replaced_by, in_keychain) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, ?, 0)`);

  const failures: Error[] = [];
  const onError = (error: Error | null) => error && failures.push(error);
  const bytes = new SeededBytes(SEED);
  for (let i = 0; i < count; i++) {
    const msecs = EPOCH + i * 1000;
    const at = new Date(msecs).toISOString();
    // 95% active, 4% suspended, 1% revoked: a status filter on `active` still has > 90% of the rows.
    const status = i % 100 < 95 ? 'active' : i % 100 < 99 ? 'suspended' : 'revoked';
    const agentId = uuidv7({ msecs, random: bytes.take(16) });
    const { publicPem, fingerprint } = identity(bytes);
    agentInsert.run(
      [
        agentId,
        project.id,
        `agent-${String(i).padStart(6, '0')}`,
        `Bench agent ${i}`,
        status,
        publicPem,
        fingerprint,
        admin.id,
        at,
        at,
        status === 'revoked' ? at : null,
      ],
      onError,
    );
    // A rotated-out key and the key that replaced it.
    const ids = [uuidv7({ msecs, random: bytes.take(16) }), uuidv7({ msecs: msecs + 1, random: bytes.take(16) })];
    ids.forEach((keyId, k) => {
      const key = bytes.agentKey();
      keyInsert.run(
        [
          keyId,
          agentId,
          k === 0 ? 'first' : 'current',
          key.prefix,
          sha256Hex(key.plaintext),
          key.plaintext.slice(-4),
          at,
          new Date(msecs + 30 * DAY_MS).toISOString(),
          k === 0 ? at : null,
          k === 0 ? ids[1] : null,
        ],
        onError,
      );
    });
  }
  await new Promise<void>((resolve) => agentInsert.finalize(() => keyInsert.finalize(() => resolve())));
  if (failures.length > 0) {
    await exec('ROLLBACK');
    throw failures[0];
  }
  await exec('COMMIT');
  // One self-contained file: fold the WAL into it before it is copied.
  await exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
}

/**
 * `agents` agents (2 keys each) in the default project of a PostgreSQL database the daemon has
 * already migrated and set up, written by the server itself (`INSERT … SELECT generate_series`):
 * the rows the SQLite seed writes, in the same shape — UUID v7 ids one second apart (id order is
 * creation order), 95% active / 4% suspended / 1% revoked, a rotated-out key and its replacement
 * per agent. The public keys are 256 real Ed25519 keys taken in turn (the list never verifies
 * them); key prefixes count up, so they are unique. Not cached: each run's server is new.
 */
export async function seedPostgresAgents(url: string, count: number, log: (line: string) => void): Promise<void> {
  log(`seeding ${thousands(count)} agents / ${thousands(count * 2)} keys on PostgreSQL…`);
  const started = Date.now();
  const bytes = new SeededBytes(`${SEED}-postgres`);
  const identities = Array.from({ length: 256 }, () => identity(bytes));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // A throwaway bench server: a lost commit costs a rerun, not data.
    await client.query('SET synchronous_commit = off');
    const {
      rows: [owner],
    } = await client.query<{ project: string; admin: string }>(
      `SELECT (SELECT id FROM projects WHERE slug = 'default') AS project,
              (SELECT id FROM users WHERE role = 'super_admin') AS admin`,
    );
    // UUID v7 from a millisecond timestamp and md5 bytes: version 7, variant 10.
    const uuidV7 = (msecs: string, random: string) => `(SELECT substr(t, 1, 8) || '-' || substr(t, 9, 4) || '-7' ||
      substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12)
      FROM (SELECT lpad(to_hex(${msecs}), 12, '0') AS t, md5(${random}) AS r) AS parts)`;
    const iso = (msecs: string) =>
      `to_char(to_timestamp((${msecs}) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO agents (id, project_id, name, description, provider, backend, model, allowed_tools,
         approval_required_tools, capability_role, scopes, status, permissions_version, on_permission_change,
         public_key, key_fingerprint, created_by, created_at, updated_at, revoked_at)
       SELECT ${uuidV7('ms', `'agent-' || i`)}, $1, 'agent-' || lpad(i::text, 7, '0'), 'Bench agent ' || i,
         'openai', 'gpt-4o', 'gpt-4o', '[]', '[]', 'worker', '[]', status, 1, 'notify',
         ($3::text[])[1 + i % 256], ($4::text[])[1 + i % 256], $2, ${iso('ms')}, ${iso('ms')},
         CASE WHEN status = 'revoked' THEN ${iso('ms')} END
       FROM (SELECT i, $5::bigint + i * 1000 AS ms,
               CASE WHEN i % 100 < 95 THEN 'active' WHEN i % 100 < 99 THEN 'suspended' ELSE 'revoked' END AS status
             FROM generate_series(0, $6::int - 1) AS i) AS seeded`,
      [
        owner!.project,
        owner!.admin,
        identities.map((id) => id.publicPem),
        identities.map((id) => id.fingerprint),
        EPOCH,
        count,
      ],
    );
    // Key k (0: rotated out, 1: current) of the agent made at `ms`, made 1 ms apart as the SQLite seed's.
    await client.query(
      `INSERT INTO agent_keys (id, agent_id, label, prefix, secret_hash, last_four, scopes, created_at,
         expires_at, revoked_at, replaced_by, in_keychain)
       SELECT key_id, agent_id, CASE k WHEN 0 THEN 'first' ELSE 'current' END,
         lpad(to_hex(i * 2 + k), ${PREFIX_LENGTH}, '0'), encode(sha256(('bench-key-' || i || '-' || k)::bytea), 'hex'),
         substr(md5('last-' || i || '-' || k), 1, 4), '[]', ${iso('ms')}, ${iso(`ms + 30 * ${DAY_MS}::bigint`)},
         CASE k WHEN 0 THEN ${iso('ms')} END, CASE k WHEN 0 THEN next_id END, false
       FROM (SELECT i, k, ms, ${uuidV7('ms', `'agent-' || i`)} AS agent_id, ${uuidV7('ms + k', `'key-' || i || '-' || k`)} AS key_id,
               ${uuidV7('ms + 1', `'key-' || i || '-1'`)} AS next_id
             FROM (SELECT i, k, $1::bigint + i * 1000 AS ms
                   FROM generate_series(0, $2::int - 1) AS i, generate_series(0, 1) AS k) AS numbered) AS seeded`,
      [EPOCH, count],
    );
    await client.query('COMMIT');
    // What autovacuum would have done by the time a real table reached this size: planner
    // statistics and a visibility map (index-only scans).
    await client.query('VACUUM ANALYZE agents');
    await client.query('VACUUM ANALYZE agent_keys');
    log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** What `addActivity` wrote, for the overview scenario to query and to report. */
export interface SeededActivity {
  events: number;
  inLastWeek: number;
  projectId: string;
  /** The agent with the most events (a tenth of them). */
  busiestAgent: string;
}

/**
 * Four weeks of agent activity up to now in the audit chain of a seeded database, oldest first as
 * the chain is appended: brokered calls, MCP tool calls, approval requests, and one in ten
 * refused. Not cached (the windows are relative to now). Keys get a spread of expiries and uses,
 * so the overview's key lists have rows to find.
 */
export async function addActivity(path: string, events: number, log: (line: string) => void): Promise<SeededActivity> {
  const started = Date.now();
  const db = new sqlite3.Database(path);
  const exec = (sql: string, params: unknown[] = []) =>
    new Promise<void>((resolve, reject) => db.run(sql, params, (e) => (e ? reject(e) : resolve())));
  const all = <T>(sql: string) =>
    new Promise<T[]>((resolve, reject) => db.all(sql, (e: Error | null, rows: T[]) => (e ? reject(e) : resolve(rows))));

  const [project] = await all<{ id: string }>(`SELECT id FROM projects WHERE slug = 'default'`);
  const agents = await all<{ id: string; name: string }>(`SELECT id, name FROM agents ORDER BY id`);
  const now = Date.now();
  const span = 28 * DAY_MS;
  const types = ['connection.called', 'connection.called', 'mcp.tool_call', 'mcp.tool_call', 'approval.requested'];
  let inLastWeek = 0;
  await exec('BEGIN');
  const insert = db.prepare(`INSERT INTO audit_events (at, event_type, actor, agent_id, target, project_id, outcome,
    metadata, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, '{}', ?)`);
  const failures: Error[] = [];
  const onError = (error: Error | null) => error && failures.push(error);
  for (let i = 0; i < events; i++) {
    const at = now - span + Math.floor((i * span) / events);
    if (at > now - 7 * DAY_MS) inLastWeek++;
    // Knuth's multiplicative hash spreads the events over the agents; a tenth go to the first.
    const agent = i % 10 === 0 ? agents[0]! : agents[((i * 2654435761) >>> 0) % agents.length]!;
    insert.run(
      [
        new Date(at).toISOString(),
        types[i % types.length],
        `agent:${agent.name}`,
        agent.id,
        'connection:bench',
        project!.id,
        i % 10 === 3 ? 'failure' : 'success',
        `sha256:bench-${i}`,
      ],
      onError,
    );
  }
  await new Promise<void>((resolve) => insert.finalize(() => resolve()));
  if (failures.length > 0) {
    await exec('ROLLBACK');
    throw failures[0];
  }
  // The current keys: expiring over the next 60 days, two in three used an hour ago.
  await exec(
    `UPDATE agent_keys SET
       expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0 + (rowid % 60) * 86400, 'unixepoch'),
       last_used_at = CASE WHEN rowid % 3 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ? / 1000.0 - 3600, 'unixepoch') END
     WHERE revoked_at IS NULL`,
    [now, now],
  );
  await exec('COMMIT');
  await exec('PRAGMA wal_checkpoint(TRUNCATE)');
  await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
  log(
    `added ${events} audit events (${inLastWeek} in the last week) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { events, inLastWeek, projectId: project!.id, busiestAgent: agents[0]!.name };
}
