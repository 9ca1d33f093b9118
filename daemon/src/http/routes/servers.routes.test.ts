import { readFileSync } from 'node:fs';
import keytar from 'keytar';
import { databaseBytes } from '../../testing/database-files.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpUpstream, type HttpUpstream } from '../../testing/mcp-upstream.js';
import { McpServerEntity } from '../../storage/mcp-entities.js';
import { CrashingStore } from '../../testing/crashing-store.js';
import {
  ADMIN,
  agentSessions,
  startWithAdmin,
  testKeychainService,
  type TestDaemon,
} from '../../testing/test-daemon.js';

const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

describe('MCP servers: registry, supervision and discovery', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    upstream = await startHttpUpstream({ token: 'upstream-credential-4b1d' });
  });
  afterAll(async () => {
    await t.dispose();
    await upstream.close();
  });

  const server = (name: string) => t.request('GET', `/v1/servers/${name}`, { token: admin });
  /** Polls until the server's status is `status`; returns the server. */
  const until = async (name: string, test: (s: any) => boolean, ms = 20_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const { body } = await server(name);
      if (test(body)) return body;
      if (Date.now() > deadline) throw new Error(`server ${name} stayed ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const registry = async () =>
    (await t.request('GET', '/v1/tools?limit=500', { token: admin })).body.map((tool: { name: string }) => tool.name);

  it('starts a stdio server, discovers its tools and registers them as <server>.<tool>', async () => {
    const created = await t.request('POST', '/admin/servers', {
      token: admin,
      body: {
        name: 'everything',
        transport: 'stdio',
        command: process.execPath,
        args: [everything],
        env: { PLAIN_SETTING: 'visible' },
        secret_env: { EVERYTHING_TOKEN: 'env-secret-93ac7e' },
      },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'everything', status: 'starting', secret_env: ['EVERYTHING_TOKEN'] });
    expect(JSON.stringify(created.body)).not.toContain('env-secret-93ac7e');
    const running = await until('everything', (s) => s.status === 'running');
    expect(running.tools.map((tool: { name: string }) => tool.name)).toContain('everything.echo');
    expect(running.tools.find((tool: { name: string }) => tool.name === 'everything.get-sum')).toMatchObject({
      upstream_name: 'get-sum',
    });
    expect(await registry()).toEqual(expect.arrayContaining(['everything.echo', 'everything.get-sum']));
    expect((await databaseBytes(t)).toString('latin1')).not.toContain('env-secret-93ac7e');
  });

  it('connects to a Streamable HTTP upstream with its credential from the keychain, and follows list_changed', async () => {
    const created = await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'remote', transport: 'http', url: upstream.url, credential: 'upstream-credential-4b1d' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ has_credential: true });
    const running = await until('remote', (s) => s.status === 'running');
    expect(running.tools.map((tool: { name: string }) => tool.name)).toEqual([
      'remote.echo',
      'remote.add',
      'remote.slow',
      'remote.ask',
    ]);
    expect(upstream.authorizations.at(-1)).toBe('Bearer upstream-credential-4b1d');

    upstream.addTool('late');
    await until('remote', (s) => s.tools.some((tool: { name: string }) => tool.name === 'remote.late'));
    expect(await registry()).toContain('remote.late');
    const db = (await databaseBytes(t)).toString('latin1');
    expect(db).not.toContain('upstream-credential-4b1d');
  });

  it('shows a server that fails to start, or answers garbage, as failed with its last error; the daemon stays up', async () => {
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'dies', transport: 'stdio', command: process.execPath, args: ['-e', 'process.exit(3)'] },
    });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: {
        name: 'garbage',
        transport: 'stdio',
        command: process.execPath,
        args: ['-e', "process.stdin.on('data', () => process.stdout.write('this is not json\\n'))"],
      },
    });
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'missing', transport: 'stdio', command: '/nonexistent/mcp-server' },
    });
    for (const name of ['dies', 'garbage', 'missing']) {
      const failed = await until(name, (s) => s.status === 'failed');
      expect(failed.last_error).toEqual(expect.any(String));
    }
    expect((await t.request('GET', '/v1/status')).status).toBe(200);
    // The failed ones are retried with backoff, and their stderr goes to the log.
    const log = readFileSync(join(t.home, 'logs/current.log'), 'utf8');
    expect(log).toMatch(/MCP server failed/);
  });

  it('walks its status codes: 400 on settings of the other transport, 409 on a duplicate, 404 when unknown', async () => {
    const post = (body: object) => t.request('POST', '/admin/servers', { token: admin, body });
    expect((await post({ name: 'x', transport: 'stdio' })).body.code).toBe('validation_failed');
    expect((await post({ name: 'x', transport: 'stdio', command: 'x', url: 'http://a/' })).status).toBe(400);
    expect((await post({ name: 'x', transport: 'http', url: 'http://a/', command: 'x' })).status).toBe(400);
    expect((await post({ name: 'Bad.Name', transport: 'stdio', command: 'x' })).status).toBe(400);
    expect((await post({ name: 'everything', transport: 'stdio', command: 'x' })).status).toBe(409);
    expect((await server('nope')).status).toBe(404);
    expect((await t.request('DELETE', '/admin/servers/nope', { token: admin })).status).toBe(404);
    expect((await t.request('GET', '/v1/servers')).status).toBe(401);
  });

  it('restarts a server with new settings, and disabling it stops it', async () => {
    const patched = await t.request('PATCH', '/admin/servers/dies', {
      token: admin,
      body: { args: [everything] },
    });
    expect(patched.status).toBe(200);
    await until('dies', (s) => s.status === 'running');
    const disabled = await t.request('PATCH', '/admin/servers/dies', { token: admin, body: { enabled: false } });
    expect(disabled.body.status).toBe('stopped');
  });

  it('ends the sessions of an agent set to revoke_tokens when a granted server tool goes away or its server is deleted', async () => {
    await t.request('POST', '/admin/servers', {
      token: admin,
      body: { name: 'strict', transport: 'http', url: upstream.url, credential: 'upstream-credential-4b1d' },
    });
    upstream.addTool('fleeting');
    await until('strict', (s) => s.tools.some((tool: { name: string }) => tool.name === 'strict.fleeting'));
    const agent = (
      await t.request('POST', '/admin/agents', {
        token: admin,
        body: { name: 'strict-mcp', issue_key: true, on_permission_change: 'revoke_tokens' },
      })
    ).body;
    await t.request('POST', '/admin/agents/strict-mcp/tools', {
      token: admin,
      body: { tools: ['strict.echo', 'strict.fleeting'] },
    });
    const { signIn, refresh, revocations } = agentSessions(t, admin, agent);

    // The server stops offering a granted tool (tools/list_changed).
    const before = await signIn();
    upstream.removeTool('fleeting');
    await until('strict', (s) => !s.tools.some((tool: { name: string }) => tool.name === 'strict.fleeting'));
    expect((await refresh(before)).status).toBe(401);
    expect(await revocations()).toEqual(['mcp-server:strict']);

    // The server is deleted with its tools.
    const fresh = await signIn();
    expect((await t.request('DELETE', '/admin/servers/strict', { token: admin })).status).toBe(204);
    expect((await refresh(fresh)).status).toBe(401);
    expect(await revocations()).toEqual(['user:admin', 'mcp-server:strict']);
  });

  it('deletes a server with its tools', async () => {
    expect((await t.request('DELETE', '/admin/servers/remote', { token: admin })).status).toBe(204);
    expect((await registry()).filter((name: string) => name.startsWith('remote.'))).toEqual([]);
    expect((await t.request('GET', '/v1/servers', { token: admin })).body.map((s: { name: string }) => s.name)).toEqual(
      ['dies', 'everything', 'garbage', 'missing'],
    );
  });
});

describe('MCP servers: an update that replaces a secret', () => {
  const keychainService = testKeychainService();
  const store = new CrashingStore(keychainService);
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin({ keychainService, secrets: store })));
  afterAll(() => t.dispose());

  /** The values of the items under `prefix` (the row's own and any left beside it). */
  const items = async (prefix: string) =>
    (await keytar.findCredentials(keychainService))
      .filter((item) => item.account.startsWith(prefix))
      .map((item) => item.password);
  /** The value of each item the server's row names. */
  const named = async (name: string) => {
    const row = await t.daemon.services.db.manager.findOneByOrFail(McpServerEntity, { name });
    const read = (account: string | null) => (account ? keytar.getPassword(keychainService, account) : null);
    return { env: await read(row.secret_accounts.TOKEN ?? null), credential: await read(row.credential_account) };
  };
  const patch = (name: string, body: unknown) => t.request('PATCH', `/admin/servers/${name}`, { token: admin, body });

  it('keeps the committed secrets when it dies between its keychain write and its commit, and drops the old ones once it commits', async () => {
    const stdio = await t.request('POST', '/admin/servers', {
      token: admin,
      body: {
        name: 'local',
        transport: 'stdio',
        command: process.execPath,
        args: ['-e', ''],
        secret_env: { TOKEN: 'env-old' },
        enabled: false,
      },
    });
    const http = await t.request('POST', '/admin/servers', {
      token: admin,
      body: {
        name: 'remote',
        transport: 'http',
        url: 'http://127.0.0.1:9/mcp',
        credential: 'credential-old',
        enabled: false,
      },
    });
    expect([stdio.status, http.status]).toEqual([201, 201]);

    for (const [name, body] of [
      ['local', { secret_env: { TOKEN: 'env-new' } }],
      ['remote', { credential: 'credential-new' }],
    ] as const) {
      store.crashAfterNextWrite();
      expect((await patch(name, body)).status).toBe(500);
      store.revive();
    }
    t = await t.restart();
    admin = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;

    expect(await named('local')).toEqual({ env: 'env-old', credential: null });
    expect(await named('remote')).toEqual({ env: null, credential: 'credential-old' });
    expect(await items(`mcp-server-env:${stdio.body.id}`)).toEqual(['env-old']);
    expect(await items(`mcp-server-credential:${http.body.id}`)).toEqual(['credential-old']);

    expect((await patch('local', { secret_env: { TOKEN: 'env-new' } })).status).toBe(200);
    expect((await patch('remote', { credential: 'credential-new' })).status).toBe(200);
    expect(await named('local')).toEqual({ env: 'env-new', credential: null });
    expect(await named('remote')).toEqual({ env: null, credential: 'credential-new' });
    expect(await items(`mcp-server-env:${stdio.body.id}`)).toEqual(['env-new']);
    expect(await items(`mcp-server-credential:${http.body.id}`)).toEqual(['credential-new']);
  });
});
