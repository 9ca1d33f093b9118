import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiscoveryFile } from '@gatehouse/shared';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import { spawnGatehouse, type SpawnedDaemon } from '../testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from '../testing/test-daemon.js';
import { createTestDatabase, testDatabaseServer, type TestDatabase } from '../testing/test-database.js';
import { gatehouse } from './test-cli.js';

const server = testDatabaseServer();
/** An address of this machine's other than loopback: what a team member's CLI reaches the server at. */
const address = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry && !entry.internal && entry.family === 'IPv4')?.address;

/** `/healthz` over HTTPS with `ca` as the one trusted certificate. */
const healthy = (url: string, ca: string) =>
  new Promise<boolean>((resolve) => {
    request(`${url}/healthz`, { ca }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    })
      .on('error', () => resolve(false))
      .end();
  });

/*
 * A team member's `gatehouse` against a team server: a daemon on PostgreSQL with the database
 * secret store, listening on a network address with --allow-remote and TLS, reached at that
 * address over HTTPS with the server's certificate trusted, as README's "Team server" sets it up.
 */
describe.skipIf(!server || !address)(
  'gatehouse against a team server over TLS (needs GATEHOUSE_TEST_DATABASE_URL and a non-loopback IPv4 address)',
  () => {
    let database: TestDatabase;
    let home: string;
    let spawned: SpawnedDaemon;
    let url: string;
    let tls: { cert: string; key: string };
    // The team member's machine: a data directory without a daemon or a database (an empty URL:
    // none, not the one a daemon on that home would get), and a keychain service of its own.
    const member = { home: '', keychainService: testKeychainService(), databaseUrl: '' };
    const cli = (args: string[], stdin?: string) =>
      gatehouse(member, args, {
        env: { GATEHOUSE_URL: url, NODE_EXTRA_CA_CERTS: tls.cert },
        ...(stdin !== undefined ? { stdin } : {}),
      });

    beforeAll(async () => {
      database = await createTestDatabase(server!);
      home = mkdtempSync(join(tmpdir(), 'gatehouse-team-'));
      member.home = mkdtempSync(join(tmpdir(), 'gatehouse-member-'));
      tls = selfSignedCertificate(home, { commonName: address!, subjectAltName: `IP:${address!}` });
      spawned = spawnGatehouse(
        [
          'daemon',
          '--quiet',
          '--home',
          home,
          '--port',
          '0',
          '--host',
          address!,
          '--allow-remote',
          '--tls-cert',
          tls.cert,
          '--tls-key',
          tls.key,
          '--secret-store',
          'database',
        ],
        {
          GATEHOUSE_DATABASE_URL: database.url,
          GATEHOUSE_KEK: randomBytes(32).toString('base64'),
          GATEHOUSE_KEK_FILE: '',
          GATEHOUSE_PREVIOUS_KEK: '',
          GATEHOUSE_PREVIOUS_KEK_FILE: '',
          GATEHOUSE_KEYCHAIN_SERVICE: testKeychainService(),
        },
      );
      const ca = readFileSync(tls.cert, 'utf8');
      const discovery = join(home, 'daemon.json');
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (spawned.child.exitCode !== null) throw new Error(`daemon exited: ${spawned.output()}`);
        if (Date.now() > deadline) throw new Error(`daemon did not become healthy: ${spawned.output()}`);
        if (existsSync(discovery)) {
          url = (JSON.parse(readFileSync(discovery, 'utf8')) as DiscoveryFile).url;
          if (await healthy(url, ca)) break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(url).toMatch(new RegExp(`^https://${address!.replace(/\./g, '\\.')}:\\d+$`));
      await fetchSetup(url, ca);
    }, 120_000);
    afterAll(async () => {
      // Ends the session on the daemon and takes it out of the member's keychain.
      if (url) await cli(['logout']);
      if (spawned) {
        spawned.child.kill('SIGTERM');
        await spawned.exited;
      }
      await database?.drop();
      for (const dir of [home, member.home]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('signs in, lists the agents and creates a key, over HTTPS', async () => {
      const login = await cli(['login', '--username', ADMIN.username], `${ADMIN.password}\n`);
      expect(login.code, login.stderr).toBe(0);

      const created = await cli(['agents', 'create', 'researcher']);
      expect(created.code, created.stderr).toBe(0);
      const listed = await cli(['agents', 'list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect(JSON.parse(listed.stdout).map((agent: { name: string }) => agent.name)).toEqual(['researcher']);

      const key = await cli(['keys', 'create', 'researcher', '--json']);
      expect(key.code, key.stderr).toBe(0);
      const issued = JSON.parse(key.stdout);
      expect(issued.api_key).toMatch(/^agent_/);
      const keys = JSON.parse((await cli(['keys', 'list', 'researcher', '--json'])).stdout);
      expect(keys.map((row: { id: string }) => row.id)).toContain(issued.id);
    });

    it('is refused by a CLI that does not trust the server’s certificate', async () => {
      const untrusting = await gatehouse(member, ['login', '--username', ADMIN.username], {
        env: { GATEHOUSE_URL: url },
        stdin: `${ADMIN.password}\n`,
      });
      expect(untrusting.code).toBe(1);
      expect(untrusting.stdout).toBe('');
      expect(untrusting.stderr).toContain(url);
    });
  },
);

/** First-run setup of the admin, as the console's setup page does it. */
function fetchSetup(url: string, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(ADMIN);
    request(
      `${url}/auth/setup`,
      {
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        if (response.statusCode === 201) resolve();
        else reject(new Error(`setup answered ${response.statusCode}`));
      },
    )
      .on('error', reject)
      .end(body);
  });
}
