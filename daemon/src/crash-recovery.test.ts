import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from './testing/test-daemon.js';

const CYCLES = 3;
const WORKERS = 6;

/** A key the daemon handed out: it must keep verifying after any crash. */
interface Returned {
  agentId: string;
  secret: string;
}

/** A gatehoused run from source on a home and keychain service of its own, to be killed with SIGKILL. */
function crashableDaemon() {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
  const keychainService = testKeychainService();
  let running: SpawnedDaemon | undefined;
  const call = async (url: string, method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(url + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as any };
  };
  return {
    keychainService,
    call,
    async start() {
      running = spawnGatehouse(['daemon', '--quiet', '--home', home, '--port', '0'], {
        GATEHOUSE_KEYCHAIN_SERVICE: keychainService,
      });
      return (await waitForDaemon(home, running, 60_000)).url;
    },
    async kill(signal: 'SIGKILL' | 'SIGTERM') {
      running!.child.kill(signal);
      await running!.exited;
    },
    signIn: async (url: string) => (await call(url, 'POST', '/auth/login', undefined, ADMIN)).body.access_token,
    async dispose() {
      running?.child.kill('SIGKILL');
      for (const item of await keytar.findCredentials(keychainService))
        await keytar.deletePassword(keychainService, item.account);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `worker`s in parallel and kills the daemon with SIGKILL at a random moment once each has
 * created something, `cycles` times; resolves with the URL of the daemon started after the last kill.
 */
async function createUntilKilled(
  daemon: ReturnType<typeof crashableDaemon>,
  firstUrl: string,
  worker: (url: string, admin: string, cycle: number, id: number, killed: () => boolean) => Promise<void>,
  createdSoFar: () => number,
  cycles = CYCLES,
): Promise<string> {
  let url = firstUrl;
  for (let cycle = 0; cycle < cycles; cycle++) {
    const admin = await daemon.signIn(url);
    let killed = false;
    const workers = Array.from({ length: WORKERS }, (_, id) => worker(url, admin, cycle, id, () => killed));
    // The kill lands at a random moment once creates are under way.
    const createdBefore = createdSoFar();
    while (createdSoFar() < createdBefore + WORKERS) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
    killed = true;
    await daemon.kill('SIGKILL');
    await Promise.all(workers);
    url = await daemon.start();
  }
  return url;
}

describe('a kill -9 during parallel key and agent creation', () => {
  const daemon = crashableDaemon();
  const { call, keychainService } = daemon;
  afterAll(() => daemon.dispose());

  const verifies = async (url: string, key: Returned) =>
    (await call(url, 'POST', '/v1/auth/token', undefined, { agent_id: key.agentId, secret: key.secret })).status;

  it('leaves no orphan keychain item and no dead alias, and every key it returned still verifies', async () => {
    const firstUrl = await daemon.start();
    expect((await call(firstUrl, 'POST', '/auth/setup', undefined, ADMIN)).status).toBe(201);
    const returned: Returned[] = [];
    let created = 0;
    // Each worker creates an agent with a key, then another key for it, again and again.
    const url = await createUntilKilled(
      daemon,
      firstUrl,
      async (url, admin, cycle, id, killed) => {
        for (let round = 0; !killed(); round++) {
          const name = `crash-${cycle}-${id}-${round}`;
          const agent = await call(url, 'POST', '/admin/agents', admin, { name, issue_key: true }).catch(() => null);
          if (agent?.status !== 201) continue;
          returned.push({ agentId: agent.body.id, secret: agent.body.agent_key.api_key });
          const key = await call(url, 'POST', `/admin/agents/${name}/keys`, admin, {}).catch(() => null);
          if (key?.status === 201) returned.push({ agentId: agent.body.id, secret: key.body.api_key });
          created++;
        }
      },
      () => created,
    );

    const admin = await daemon.signIn(url);
    const agents: Array<{ id: string; name: string }> = (await call(url, 'GET', '/v1/agents?limit=1000', admin)).body;
    const liveKeys = new Set<string>();
    for (const agent of agents) {
      const keys: Array<{ id: string; active: boolean }> = (
        await call(url, 'GET', `/v1/agents/${agent.name}/keys`, admin)
      ).body;
      for (const key of keys) if (key.active) liveKeys.add(key.id);
    }
    const agentIds = new Map(agents.map((agent) => [agent.name, agent.id]));
    const orphans: string[] = [];
    const deadAliases: string[] = [];
    for (const item of await keytar.findCredentials(keychainService)) {
      const [kind, rest] = [item.account.slice(0, item.account.indexOf(':')), item.account.split(':')[1]!];
      if (kind === 'agent-key' && !liveKeys.has(rest)) orphans.push(item.account);
      if (kind === 'agent-identity' && !agents.some((agent) => agent.id === rest)) orphans.push(item.account);
      if (kind === 'agent') {
        const agentId = agentIds.get(rest.slice('default/'.length));
        if (!agentId || (await verifies(url, { agentId, secret: item.password })) !== 200)
          deadAliases.push(item.account);
      }
    }
    expect(orphans).toEqual([]);
    expect(deadAliases).toEqual([]);
    expect(returned.length).toBeGreaterThan(CYCLES * WORKERS);
    const failing = [];
    for (const key of returned) if ((await verifies(url, key)) !== 200) failing.push(key.agentId);
    expect(failing).toEqual([]);
    expect((await call(url, 'GET', '/v1/audit/verify', admin)).body).toMatchObject({ is_valid: true });
    await daemon.kill('SIGTERM');
  }, 180_000);
});

/** A stdio MCP server that starts only when `SERVER_TOKEN` holds the value it is given as its argument. */
const SERVER_CHECKING_ITS_SECRET = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
if (process.env.SERVER_TOKEN !== process.argv[1]) process.exit(3);
const server = new McpServer({ name: 'checks-its-secret', version: '1.0.0' });
server.registerTool('ping', { description: 'Answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
await server.connect(new StdioServerTransport());
`;

/** More kills than for agents: a create's window between its keychain write and its commit is narrower. */
const SERVER_CYCLES = 5;

describe('a kill -9 during parallel connection and MCP server creation', () => {
  const daemon = crashableDaemon();
  const { call, keychainService } = daemon;
  /** The provider behind every connection: it answers with the credential the broker sent it. */
  let provider: Server;
  let providerUrl: string;
  beforeAll(async () => {
    provider = createServer((request, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ authorization: request.headers.authorization ?? null })),
    );
    await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
    providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    provider.close();
    await daemon.dispose();
  });

  const serverSettles = async (url: string, admin: string, name: string) => {
    for (let attempt = 0; ; attempt++) {
      const { body } = await call(url, 'GET', `/v1/servers/${name}`, admin);
      if (body.status === 'running' || body.status === 'error' || attempt === 300) return body.status as string;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  it('leaves no orphan keychain item, and every connection and server it created still works with its own secret', async () => {
    const firstUrl = await daemon.start();
    expect((await call(firstUrl, 'POST', '/auth/setup', undefined, ADMIN)).status).toBe(201);
    let created = 0;
    // Each worker creates a connection and a (stopped) stdio server with a secret of its own, again and again.
    const url = await createUntilKilled(
      daemon,
      firstUrl,
      async (url, admin, cycle, id, killed) => {
        for (let round = 0; !killed(); round++) {
          const name = `crash-${cycle}-${id}-${round}`;
          const connection = await call(url, 'POST', '/admin/connections', admin, {
            name,
            base_url: providerUrl,
            secret: `sk-${name}`,
            injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
          }).catch(() => null);
          const server = await call(url, 'POST', '/admin/servers', admin, {
            name,
            transport: 'stdio',
            command: process.execPath,
            args: ['--input-type=module', '-e', SERVER_CHECKING_ITS_SECRET, `env-${name}`],
            secret_env: { SERVER_TOKEN: `env-${name}` },
            enabled: false,
          }).catch(() => null);
          if (connection?.status === 201 && server?.status === 201) created++;
        }
      },
      () => created,
      SERVER_CYCLES,
    );

    const admin = await daemon.signIn(url);
    const connections: Array<{ id: string; name: string; tool: string }> = (
      await call(url, 'GET', '/v1/connections?limit=1000', admin)
    ).body;
    const servers: Array<{ id: string; name: string }> = (await call(url, 'GET', '/v1/servers', admin)).body;
    expect(connections.length).toBeGreaterThanOrEqual(SERVER_CYCLES * WORKERS);
    expect(servers.length).toBeGreaterThanOrEqual(SERVER_CYCLES * WORKERS);

    // Every row names an item holding its own secret, and no item is left that no row names.
    const wanted = new Map([
      ...connections.map((connection) => [`connection:${connection.id}`, `sk-${connection.name}`] as const),
      ...servers.map((server) => [`mcp-server-env:${server.id}:SERVER_TOKEN`, `env-${server.name}`] as const),
    ]);
    // A server's items are named `mcp-server-env:<server>:<uuid>:<NAME>`, a new uuid for each value written.
    const items = (await keytar.findCredentials(keychainService)).filter((item) =>
      /^(connection|connection-client|mcp-server-env|mcp-server-credential):/.test(item.account),
    );
    const held = new Map(
      items.map((item) => [item.account.replace(/^(mcp-server-env:[^:]+):[0-9a-f-]{36}:/, '$1:'), item.password]),
    );
    expect(held).toEqual(wanted);
    expect(items).toHaveLength(wanted.size);

    // A brokered call through each connection carries that connection's secret.
    const agent = await call(url, 'POST', '/admin/agents', admin, {
      name: 'checker',
      issue_key: true,
      allowed_tools: connections.map((connection) => connection.tool),
    });
    expect(agent.status).toBe(201);
    const injected: Record<string, string | null> = {};
    for (const connection of connections) {
      const response = await fetch(`${url}/proxy/${connection.name}/check`, {
        headers: { authorization: `Bearer ${agent.body.agent_key.api_key}` },
      });
      injected[connection.name] = response.ok
        ? ((await response.json()) as { authorization: string }).authorization
        : null;
    }
    expect(injected).toEqual(
      Object.fromEntries(connections.map((connection) => [connection.name, `Bearer sk-${connection.name}`])),
    );

    // Each server starts with its own secret in its environment (a few at a time: each is a process).
    const started: Record<string, string> = {};
    for (let at = 0; at < servers.length; at += 4) {
      const batch = servers.slice(at, at + 4);
      for (const server of batch) await call(url, 'PATCH', `/admin/servers/${server.name}`, admin, { enabled: true });
      for (const server of batch) started[server.name] = await serverSettles(url, admin, server.name);
      for (const server of batch) await call(url, 'PATCH', `/admin/servers/${server.name}`, admin, { enabled: false });
    }
    expect(started).toEqual(Object.fromEntries(servers.map((server) => [server.name, 'running'])));

    expect((await call(url, 'GET', '/v1/audit/verify', admin)).body).toMatchObject({ is_valid: true });
    await daemon.kill('SIGTERM');
  }, 300_000);
});
