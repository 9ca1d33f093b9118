import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import keytar from 'keytar';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnGatehouse, waitForDaemon, type SpawnedDaemon } from './testing/spawn-daemon.js';
import { ADMIN, testKeychainService } from './testing/test-daemon.js';

const CYCLES = 3;
const WORKERS = 6;

/** A key the daemon handed out: it must keep verifying after any crash. */
interface Returned {
  agentId: string;
  secret: string;
}

describe('a kill -9 during parallel key and agent creation', () => {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-crash-'));
  const keychainService = testKeychainService();
  let running: SpawnedDaemon | undefined;
  afterAll(async () => {
    running?.child.kill('SIGKILL');
    for (const item of await keytar.findCredentials(keychainService))
      await keytar.deletePassword(keychainService, item.account);
    rmSync(home, { recursive: true, force: true });
  });

  const start = async () => {
    running = spawnGatehouse(['daemon', '--quiet', '--home', home, '--port', '0'], {
      GATEHOUSE_KEYCHAIN_SERVICE: keychainService,
    });
    return (await waitForDaemon(home, running, 60_000)).url;
  };
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
  const signIn = async (url: string) => (await call(url, 'POST', '/auth/login', undefined, ADMIN)).body.access_token;
  const verifies = async (url: string, key: Returned) =>
    (await call(url, 'POST', '/v1/auth/token', undefined, { agent_id: key.agentId, secret: key.secret })).status;

  it('leaves no orphan keychain item and no dead alias, and every key it returned still verifies', async () => {
    let url = await start();
    expect((await call(url, 'POST', '/auth/setup', undefined, ADMIN)).status).toBe(201);
    const returned: Returned[] = [];
    let created = 0;

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const admin = await signIn(url);
      let killed = false;
      // Each worker creates an agent with a key, then another key for it, again and again.
      const worker = async (id: number) => {
        for (let round = 0; !killed; round++) {
          const name = `crash-${cycle}-${id}-${round}`;
          const agent = await call(url, 'POST', '/admin/agents', admin, { name, issue_key: true }).catch(() => null);
          if (agent?.status !== 201) continue;
          returned.push({ agentId: agent.body.id, secret: agent.body.agent_key.api_key });
          const key = await call(url, 'POST', `/admin/agents/${name}/keys`, admin, {}).catch(() => null);
          if (key?.status === 201) returned.push({ agentId: agent.body.id, secret: key.body.api_key });
          created++;
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, id) => worker(id));
      // The kill lands at a random moment once creates are under way.
      const createdBefore = created;
      while (created < createdBefore + WORKERS) await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 400));
      killed = true;
      running!.child.kill('SIGKILL');
      await running!.exited;
      await Promise.all(workers);
      url = await start();
    }

    const admin = await signIn(url);
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
    running!.child.kill('SIGTERM');
    await running!.exited;
  }, 180_000);
});
