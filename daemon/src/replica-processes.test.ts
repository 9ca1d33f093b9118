import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from './testing/test-daemon.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from './testing/test-database.js';

const server = testDatabaseServer();

interface Answer {
  status: number;
  body: any;
}

/** A `gatehoused` process of its own (its own home, connections and read caches) on the shared database. */
interface Replica {
  url: string;
  spawned: SpawnedDaemon;
  home: string;
}

/*
 * Team mode as it is deployed: two gatehoused processes on one PostgreSQL database, sharing their
 * secrets through the database secret store under one key-encryption key. Races are spread over
 * both, so what holds them is the database, not either process's single writer.
 */
describe.skipIf(!server)(
  'two gatehoused processes on one PostgreSQL database (needs GATEHOUSE_TEST_DATABASE_URL)',
  () => {
    const kek = randomBytes(32).toString('base64');
    let shared: TestDatabase;
    const replicas: Replica[] = [];
    let a: Replica;
    let b: Replica;
    let admin: string;

    const startReplica = async (): Promise<Replica> => {
      const home = mkdtempSync(join(tmpdir(), 'gatehouse-replica-'));
      const spawned = spawnGatehouse(
        ['daemon', '--quiet', '--home', home, '--port', '0', '--secret-store', 'database'],
        {
          GATEHOUSE_DATABASE_URL: shared.url,
          GATEHOUSE_KEK: kek,
          GATEHOUSE_KEK_FILE: '',
          GATEHOUSE_PREVIOUS_KEK: '',
          GATEHOUSE_PREVIOUS_KEK_FILE: '',
          GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService(),
        },
      );
      const replica = { spawned, home, url: '' };
      replicas.push(replica);
      replica.url = (await waitForDaemon(home, spawned, 60_000)).url;
      return replica;
    };

    const call = async (
      replica: Replica,
      method: string,
      path: string,
      options: { token?: string; key?: string; body?: unknown } = {},
    ): Promise<Answer> => {
      const response = await fetch(replica.url + path, {
        method,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(options.key ? { 'x-api-key': options.key } : {}),
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    };

    const query = async <T>(sql: string, parameters: unknown[] = []): Promise<T[]> => {
      const client = new pg.Client({ connectionString: shared.url });
      await client.connect();
      try {
        return (await client.query(sql, parameters)).rows as T[];
      } finally {
        await client.end();
      }
    };

    /** The statuses of `answers`, counted: `{ 201: 1, 409: 49 }`. */
    const statuses = (answers: Answer[]) =>
      answers.reduce<Record<number, number>>(
        (count, { status }) => ({ ...count, [status]: (count[status] ?? 0) + 1 }),
        {},
      );

    beforeAll(async () => {
      shared = await createTestDatabase(server!);
      a = await startReplica();
      expect((await call(a, 'POST', '/auth/setup', { body: ADMIN })).status).toBe(201);
      b = await startReplica();
      // Signed by A, verified by B: the token-signing key is one, in the database secret store.
      admin = (await call(b, 'POST', '/auth/login', { body: ADMIN })).body.access_token;
      expect((await call(a, 'GET', '/v1/whoami', { token: admin })).status).toBe(200);
    }, 180_000);
    afterAll(async () => {
      for (const replica of replicas) {
        replica.spawned.child.kill('SIGKILL');
        await replica.spawned.exited;
        rmSync(replica.home, { recursive: true, force: true });
      }
      await shared?.drop();
    });

    it('creates one agent user from 100 parallel create_agent_user calls spread over both', async () => {
      const writer = await call(a, 'POST', '/admin/agents', {
        token: admin,
        body: { name: 'writer', issue_key: true },
      });
      expect(writer.status).toBe(201);
      expect((await call(a, 'POST', '/admin/workflows', { token: admin, body: { name: 'Race' } })).status).toBe(201);
      const node = await call(b, 'POST', '/admin/workflows/race/graph/nodes', {
        token: admin,
        body: { node_type: 'agent', agent_id: 'writer' },
      });
      expect(node.status).toBe(201);
      const key = writer.body.agent_key.api_key as string;

      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          call(i % 2 ? b : a, 'POST', '/v1/workflows/race/nodes/n1/agent-user', { key, body: { purpose: 'race' } }),
        ),
      );
      expect(statuses(answers)).toEqual({ 201: 1, 200: 99 });
      expect(new Set(answers.map((answer) => answer.body.api_key)).size).toBe(1);
      const users = await query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE username = 'agent_race_n1'`);
      expect(users[0]!.n).toBe(1);
    });

    it('gives one 201 to 50 parallel creates of one agent name spread over both, 409 to the rest', async () => {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(i % 2 ? b : a, 'POST', '/admin/agents', { token: admin, body: { name: 'contended', issue_key: true } }),
        ),
      );
      expect(statuses(answers)).toEqual({ 201: 1, 409: 49 });
      const agents = await query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE name = 'contended'`);
      expect(agents[0]!.n).toBe(1);
    });

    it('refuses a key revoked through A on the very next request to B', async () => {
      const created = await call(a, 'POST', '/admin/agents', {
        token: admin,
        body: { name: 'revoked', issue_key: true },
      });
      const key = created.body.agent_key.api_key as string;
      // Twice: B's caches hold the key as valid before it is revoked.
      expect((await call(b, 'GET', '/v1/whoami', { key })).status).toBe(200);
      expect((await call(b, 'GET', '/v1/whoami', { key })).status).toBe(200);
      const revoked = await call(a, 'DELETE', `/admin/agents/revoked/keys/${created.body.agent_key.id}`, {
        token: admin,
      });
      expect(revoked.status).toBe(200);
      expect((await call(b, 'GET', '/v1/whoami', { key })).status).toBe(401);
    });

    it('keeps every write A answered 2xx for when A is killed with SIGKILL under load, and B keeps serving', async () => {
      const answeredByA: string[] = [];
      let lastKeyFromA = '';
      let servedByBAfterKill = 0;
      let killed = false;
      const worker = async (replica: Replica, id: number) => {
        for (let n = 0; ; n++) {
          const name = `load-${replica === a ? 'a' : 'b'}-${id}-${n}`;
          const answer = await call(replica, 'POST', '/admin/agents', {
            token: admin,
            body: { name, issue_key: true },
          }).catch(() => null);
          if (replica === a) {
            if (!answer) return; // A is gone
            expect(answer.status).toBe(201);
            answeredByA.push(name);
            lastKeyFromA = answer.body.agent_key.api_key;
          } else {
            expect(answer?.status).toBe(201);
            if (killed && ++servedByBAfterKill >= 20) return;
          }
        }
      };
      const workers = [0, 1, 2].flatMap((id) => [worker(a, id), worker(b, id)]);
      while (answeredByA.length < 15) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
      a.spawned.child.kill('SIGKILL');
      await a.spawned.exited;
      killed = true;
      await Promise.all(workers);

      expect(servedByBAfterKill).toBeGreaterThanOrEqual(20);
      const found = await query<{ name: string }>('SELECT name FROM agents WHERE name = ANY($1)', [answeredByA]);
      expect(found.map((row) => row.name).sort()).toEqual([...answeredByA].sort());
      // And B serves them, keys and all.
      expect((await call(b, 'GET', `/v1/agents/${answeredByA.at(-1)}`, { token: admin })).status).toBe(200);
      expect((await call(b, 'GET', '/v1/whoami', { key: lastKeyFromA })).status).toBe(200);
    });

    it('keeps one valid audit chain after all of it', async () => {
      const verified = await call(b, 'GET', '/v1/audit/verify', { token: admin });
      expect(verified.status).toBe(200);
      expect(verified.body).toMatchObject({ is_valid: true });
    });
  },
);
