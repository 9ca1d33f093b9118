import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotpCode } from './domain/auth/totp.js';
import { readKeyEncryptionKey } from './secrets/key-encryption-key.js';
import { databaseBytes } from './testing/database-files.js';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { ADMIN, startWithAdmin, type TestDaemon } from './testing/test-daemon.js';

const UPSTREAM_SECRET = 'sk-upstream-sealed-4b7d9e2f0a1c3e5d';
const TOTP_STEP_MS = 30_000;

describe('a daemon on --secret-store database', () => {
  const kekBase64 = randomBytes(32).toString('base64');
  let t: TestDaemon;
  let admin: string;
  let upstream: Server;
  let upstreamUrl: string;
  const seen: IncomingHttpHeaders[] = [];
  let apiKey: string;
  let totpSecret: string;

  beforeAll(async () => {
    upstream = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const kek = readKeyEncryptionKey({ base64: kekBase64, variable: 'GATEHOUSE_KEK' });
    ({ t, admin } = await startWithAdmin({ config: { secretStore: 'database', kek } }));
  });
  afterAll(async () => {
    upstream.close();
    await t.dispose();
  });

  it('keeps an agent key, a TOTP secret and a connection secret sealed in the database, readable after a restart', async () => {
    const status = await t.request('GET', '/v1/status', { token: admin });
    expect(status.body.keychain.backend).toBe('database');

    const agent = await t.request('POST', '/admin/agents', { token: admin, body: { name: 'caller', issue_key: true } });
    expect(agent.status).toBe(201);
    apiKey = agent.body.agent_key.api_key;

    totpSecret = (await t.request('POST', '/auth/mfa/setup', { token: admin })).body.secret;
    const verified = await t.request('POST', '/auth/mfa/verify', {
      token: admin,
      body: { code: currentTotpCode(totpSecret) },
    });
    expect(verified.body).toEqual({ mfa_enabled: true });

    const connection = await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'provider',
        base_url: `${upstreamUrl}/`,
        secret: UPSTREAM_SECRET,
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        allowed_paths: ['/v1/**'],
      },
    });
    expect(connection.status).toBe(201);
    const granted = await t.request('POST', '/admin/agents/caller/tools', {
      token: admin,
      body: { tools: ['connection:provider'] },
    });
    expect(granted.status).toBe(200);

    // Nothing went to the OS keychain, and no plaintext is in the database file or its WAL.
    expect(await keytar.findCredentials(t.keychainService)).toEqual([]);
    const bytes = await databaseBytes(t);
    for (const plaintext of [apiKey, totpSecret, UPSTREAM_SECRET, kekBase64]) {
      expect(bytes.includes(Buffer.from(plaintext))).toBe(false);
    }

    t = await t.restart();
    // The TOTP secret is read back: a login needs the code.
    expect((await t.login(ADMIN.username, ADMIN.password)).body.code).toBe('mfa_required');
    const login = await t.login(ADMIN.username, ADMIN.password, currentTotpCode(totpSecret, Date.now() + TOTP_STEP_MS));
    expect(login.status).toBe(200);
    admin = login.body.access_token;

    const agents = await t.request('GET', '/v1/agents/caller', { token: admin });
    expect(agents.body).toMatchObject({ name: 'caller' });
    const listed = await t.request('GET', '/v1/connections', { token: admin });
    expect(listed.body).toEqual([expect.objectContaining({ name: 'provider', base_url: upstreamUrl })]);
    expect(JSON.stringify(listed.body)).not.toContain(UPSTREAM_SECRET);
    expect(await t.daemon.services.secrets.get(`agent-key:${agent.body.agent_key.id}`)).toBe(apiKey);

    // The agent's key and the upstream secret are read back: the broker call goes through with both.
    const call = await fetch(`${t.url}/proxy/provider/v1/echo`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(call.status).toBe(200);
    expect(seen.at(-1)!.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);

    // Nor in the logs.
    const logs = readdirSync(join(t.home, 'logs'))
      .filter((name) => name.endsWith('.log'))
      .map((name) => readFileSync(join(t.home, 'logs', name), 'utf8'))
      .join('\n');
    expect(logs).toContain('gatehoused started');
    for (const plaintext of [apiKey, totpSecret, UPSTREAM_SECRET, kekBase64]) expect(logs).not.toContain(plaintext);

    // The CLI reads the agent's key from the database too, with the key from the environment.
    const cli = (env: NodeJS.ProcessEnv) =>
      spawnGatehouse(['secret', 'get', 'default/caller', '--home', t.home], {
        GATEHOUSE_SECRET_STORE: 'database',
        GATEHOUSE_KEK_FILE: '',
        GATEHOUSE_DATABASE_URL: t.databaseUrl ?? '',
        ...env,
      });
    const read = cli({ GATEHOUSE_KEK: kekBase64 });
    expect(await read.exited).toBe(0);
    expect(read.output().trim()).toBe(apiKey);
    const refused = cli({ GATEHOUSE_KEK: randomBytes(32).toString('base64') });
    expect(await refused.exited).toBe(1);
    expect(refused.output().trim()).toMatch(
      /^gatehouse: The key-encryption key from GATEHOUSE_KEK \(id \w+\) does not open/,
    );
  }, 60_000);

  it('removes at start the sealed secrets no row names (what a crash between a delete and its secrets leaves), and keeps the live ones', async () => {
    const auditor = await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'auditor', password: 'a long enough password', role: 'super_admin' },
    });
    expect(auditor.status).toBe(201);
    const secrets = t.daemon.services.secrets;
    const live = await secrets.list();
    // A delete removes its secrets in a write of its own after its rows are gone: a crash between
    // leaves them, as it leaves the OS keychain's items.
    const orphans = [
      `agent-key:${randomUUID()}`,
      `agent-identity:${randomUUID()}`,
      `connection:${randomUUID()}`,
      `connection-client:${randomUUID()}`,
      `mcp-server-env:${randomUUID()}:TOKEN`,
      `mcp-server-credential:${randomUUID()}`,
      `totp:${randomUUID()}`,
    ];
    for (const account of orphans) await secrets.set(account, `orphan ${account}`);

    t = await t.restart();
    expect(await t.daemon.services.secrets.list()).toEqual(live);
    const call = await fetch(`${t.url}/proxy/provider/v1/echo`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(call.status).toBe(200);
    expect(seen.at(-1)!.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
    const token = (await t.login('auditor', 'a long enough password')).body.access_token;
    const audit = await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token });
    expect(audit.body[0]?.metadata, JSON.stringify(audit.body)).toMatchObject({
      orphanKeys: 1,
      orphanIdentities: 1,
      orphanConnectionSecrets: 1,
      orphanConnectionClientSecrets: 1,
      orphanServerEnv: 1,
      orphanServerCredentials: 1,
      orphanTotpSecrets: 1,
    });
  }, 60_000);
});

describe('starting gatehoused on --secret-store database', () => {
  const homes: string[] = [];
  const children: SpawnedDaemon[] = [];
  const keyDir = mkdtempSync(join(tmpdir(), 'gatehouse-keks-'));
  const keyFile = (name: string) => {
    const path = join(keyDir, name);
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    return path;
  };
  const start = (home: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const spawned = spawnGatehouse(
      ['daemon', '--quiet', '--home', home, '--port', '0', '--secret-store', 'database', ...args],
      {
        GATEHOUSE_KEK: '',
        GATEHOUSE_KEK_FILE: '',
        GATEHOUSE_PREVIOUS_KEK: '',
        GATEHOUSE_PREVIOUS_KEK_FILE: '',
        ...env,
      },
    );
    children.push(spawned);
    return spawned;
  };
  const runUntilReady = async (home: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const daemon = start(home, args, env);
    await waitForDaemon(home, daemon);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  };
  const refusal = async (home: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const daemon = start(home, args, env);
    expect(await daemon.exited).toBe(1);
    const lines = daemon.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    return lines[0]!;
  };
  afterAll(() => {
    for (const child of children) child.child.kill('SIGKILL');
    for (const home of [...homes, keyDir]) rmSync(home, { recursive: true, force: true });
  });
  const newHome = () => {
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-sealed-home-'));
    homes.push(home);
    return home;
  };

  it('refuses to start with no key, or with the wrong key, in one line; rotates with the old and the new key', async () => {
    const home = newHome();
    const [first, second] = [keyFile('first'), keyFile('second')];
    const firstId = readKeyEncryptionKey({ file: first }).id;
    const secondId = readKeyEncryptionKey({ file: second }).id;

    expect(await refusal(home, [])).toMatch(
      /^gatehoused: --secret-store=database needs the key-encryption key: --kek-file/,
    );
    await runUntilReady(home, ['--kek-file', first]);

    expect(await refusal(home, ['--kek-file', second])).toBe(
      `gatehoused: The key-encryption key from file ${second} (id ${secondId}) does not open the secrets in the database, ` +
        `which are wrapped under key id ${firstId}. Start with that key (or pass it with --previous-kek-file to rotate ` +
        'to the new one); nothing was changed.',
    );
    // The key from the environment works as the file does.
    await runUntilReady(home, [], { GATEHOUSE_KEK: readFileSync(first, 'utf8').trim() });

    await runUntilReady(home, ['--kek-file', second, '--previous-kek-file', first]);
    expect(await refusal(home, ['--kek-file', first])).toContain(`wrapped under key id ${secondId}.`);
    await runUntilReady(home, [], { GATEHOUSE_KEK_FILE: second });
  }, 180_000);
});
