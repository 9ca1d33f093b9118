import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEvent, routes, Whoami } from '@gatehouse/shared';
import { selfSignedCertificate } from '../testing/self-signed-certificate.js';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { gatehouse, startCli } from './test-cli.js';

/** Parses stdout and checks it against a contract schema, saying where it does not fit. */
function contractJson(stdout: string, schema: TSchema): any {
  const value = JSON.parse(stdout);
  expect([...Value.Errors(schema, value)].map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
  return value;
}

/** Start columns of a table's cells, line by line: aligned tables give every line the same ones. */
const columnStarts = (table: string) =>
  table
    .trimEnd()
    .split('\n')
    .map((line) => [...line.matchAll(/(?<=^| {2})\S/g)].map((match) => match.index));

// Its tests start the CLI from source (tsx) 5 to 13 times each, about 1.5 s a start on 2 cores:
// 16–22 s on a quiet machine, past the default 30 s on a CI machine half as fast.
describe('gatehouse, signed in as the admin', { timeout: 90_000 }, () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const login = await gatehouse(t, ['login', '--username', ADMIN.username], { stdin: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
    await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'courier', provider: 'openai', scopes: ['parcels:read'], issue_key: true },
    });
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'archivist with a long name' } });
    await t.request('POST', '/admin/workflows', {
      token: admin,
      body: { name: 'pipeline', definition: 'fetch, file' },
    });
    await t.request('POST', '/admin/workflows/pipeline/graph/nodes', { token: admin, body: { node_type: 'start' } });
    await t.request('POST', '/admin/workflows/pipeline/graph/nodes', {
      token: admin,
      body: { node_type: 'agent', agent_id: 'courier', label: 'fetch' },
    });
    await t.request('POST', '/admin/workflows/pipeline/graph/edges', {
      token: admin,
      body: { source_node_id: 'n1', target_node_id: 'n2' },
    });
  });
  afterAll(() => t.dispose());

  it("prints every read as the contract's JSON with --json", async () => {
    const status = await gatehouse(t, ['status', '--json']);
    const { daemon, whoami } = JSON.parse(status.stdout);
    expect(Value.Check(routes.status.response[200], daemon)).toBe(true);
    expect(Value.Check(Whoami, whoami)).toBe(true);
    expect(whoami.user.username).toBe(ADMIN.username);

    const agents = contractJson(
      (await gatehouse(t, ['agents', 'list', '--json'])).stdout,
      routes.listAgents.response[200],
    );
    expect(agents.map((a: any) => a.name).sort()).toEqual(['archivist with a long name', 'courier']);
    contractJson((await gatehouse(t, ['agents', 'show', 'courier', '--json'])).stdout, routes.getAgent.response[200]);
    const keys = contractJson(
      (await gatehouse(t, ['keys', 'list', 'courier', '--json'])).stdout,
      routes.listKeys.response[200],
    );
    expect(keys).toHaveLength(1);
    contractJson((await gatehouse(t, ['workflows', 'list', '--json'])).stdout, routes.listWorkflows.response[200]);
    const shown = JSON.parse((await gatehouse(t, ['workflows', 'show', 'pipeline', '--json'])).stdout);
    expect(Value.Check(routes.getWorkflow.response[200], shown.workflow)).toBe(true);
    expect(Value.Check(routes.getWorkflowGraph.response[200], shown.graph)).toBe(true);
    expect(shown.graph.nodes).toHaveLength(2);

    const audit = await gatehouse(t, ['audit', 'tail', '-n', '3', '--json']);
    const events = audit.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.every((event) => Value.Check(AuditEvent, event))).toBe(true);
    // A tail reads oldest first, ending with the newest event.
    const latest = (await t.request('GET', '/v1/audit?limit=3', { token: admin })).body;
    expect(events).toEqual(latest.reverse());
  });

  it('pages agents by the cursor it prints', async () => {
    const first = await gatehouse(t, ['agents', 'list', '--limit', '1']);
    expect(first.stdout).toMatch(/^courier /m);
    const cursor = /^1 of 2 agents shown; the next page: --cursor (\S+)$/m.exec(first.stderr)?.[1];
    expect(cursor, first.stderr).toBeDefined();
    const second = await gatehouse(t, ['agents', 'list', '--limit', '1', '--cursor', cursor!]);
    expect(second.stdout).toMatch(/^archivist with a long name /m);
    expect(second.stderr).not.toMatch(/next page/);
  });

  it('prints aligned tables and records for people', async () => {
    const agents = await gatehouse(t, ['agents', 'list']);
    expect(agents.stdout).toMatch(/^NAME +STATUS +PROVIDER/);
    expect(agents.stdout).toMatch(/^courier +active +openai +- +parcels:read/m);
    const starts = columnStarts(agents.stdout);
    expect(starts).toHaveLength(3);
    expect(new Set(starts.map((line) => JSON.stringify(line))).size).toBe(1);

    const workflow = await gatehouse(t, ['workflows', 'show', 'pipeline']);
    expect(workflow.stdout).toMatch(/^definition +fetch, file$/m);
    expect(workflow.stdout).toMatch(/^n2 +agent +fetch +courier \(active\)$/m);
    expect(workflow.stdout).toMatch(/^e1 +n1 +n2 +-$/m);

    const shown = await gatehouse(t, ['agents', 'show', 'courier']);
    expect(shown.stdout).toMatch(/^status +active$/m);
    expect(shown.stdout).toMatch(/^scopes +parcels:read$/m);
  });

  it('creates, suspends, resumes and revokes agents; issues, rotates and revokes keys', async () => {
    const created = await gatehouse(t, [
      'agents',
      'create',
      'scout',
      '--scopes',
      'maps:read, maps:write',
      '--tools',
      '',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^agent_[A-Za-z0-9]{8}_[A-Za-z0-9]{38}$/);
    expect(created.stderr).toContain(`account "agent:default/scout"`);
    const me = await t.request('GET', '/v1/whoami', { token: key });
    expect(me.body.agent).toMatchObject({ name: 'scout', scopes: ['maps:read', 'maps:write'] });

    expect((await gatehouse(t, ['agents', 'suspend', 'scout'])).code).toBe(0);
    expect((await t.request('GET', '/v1/whoami', { token: key })).status).toBe(401);
    const resumed = await gatehouse(t, ['agents', 'resume', 'scout', '--json']);
    expect(contractJson(resumed.stdout, routes.resumeAgent.response[200]).status).toBe('active');

    const issued = await gatehouse(t, ['keys', 'create', 'scout', '--label', 'ci', '--expires-in-days', '0', '--json']);
    const second = contractJson(issued.stdout, routes.createKey.response[201]);
    expect(second).toMatchObject({ label: 'ci', expires_at: null, keychain: { account: 'agent:default/scout' } });
    const rotated = await gatehouse(t, ['keys', 'rotate', 'scout', second.id, '--grace', '0']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/^Shown once\. Saved in the OS keychain/);
    expect((await t.request('GET', '/v1/whoami', { token: second.api_key })).status).toBe(401);
    expect((await t.request('GET', '/v1/whoami', { token: rotated.stdout.trim() })).status).toBe(200);
    const firstId = (await t.request('GET', '/v1/agents/scout/keys', { token: admin })).body.find(
      (k: any) => k.last_four === key.slice(-4),
    ).id;
    const revoked = await gatehouse(t, ['keys', 'revoke', 'scout', firstId]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await t.request('GET', '/v1/whoami', { token: key })).status).toBe(401);

    const unconfirmed = await gatehouse(t, ['agents', 'revoke', 'scout']);
    expect(unconfirmed).toMatchObject({ code: 2, stderr: expect.stringContaining('add --yes') });
    expect((await t.request('GET', '/v1/agents/scout', { token: admin })).body.status).toBe('active');
    expect((await gatehouse(t, ['agents', 'revoke', 'scout', '--yes'])).code).toBe(0);
    const resume = await gatehouse(t, ['agents', 'resume', 'scout']);
    expect(resume.code).toBe(1);
  });

  it('signs in with a password exactly as typed, spaces at its ends included', async () => {
    const password = ' spaced out passphrase ';
    await t.request('POST', '/admin/users', { token: admin, body: { username: 'spacey', password } });
    const login = await gatehouse(t, ['login', '-u', 'spacey', '--password-stdin'], { stdin: `${password}\n` });
    expect(login.code, login.stderr).toBe(0);
    // Signed in as spacey now: sign the admin back in for the other tests.
    expect((await gatehouse(t, ['login', '-u', ADMIN.username], { stdin: `${ADMIN.password}\n` })).code).toBe(0);
  });

  it("reports a failure as one line, the daemon's problem detail, with exit code 1", async () => {
    const missing = await gatehouse(t, ['agents', 'show', 'nobody']);
    const problem = await t.request('GET', '/v1/agents/nobody', { token: admin });
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: `gatehouse: ${problem.body.detail}\n` });

    const duplicate = await gatehouse(t, ['agents', 'create', 'courier', '--no-key']);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr.trim().split('\n')).toHaveLength(1);

    const elsewhere = await gatehouse(t, ['agents', 'list', '--project', 'nowhere']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/^gatehouse: .*nowhere.*\n$/);

    const noDaemon = await gatehouse({ home: `${t.home}/elsewhere`, keychainService: t.keychainService }, [
      'agents',
      'list',
    ]);
    expect(noDaemon).toMatchObject({ code: 1, stderr: expect.stringContaining('no Gatehouse daemon is running') });
    const unreachable = await gatehouse(t, ['status', '--url', 'http://127.0.0.1:9']);
    expect(unreachable).toMatchObject({
      code: 1,
      stderr: 'gatehouse: The Gatehouse daemon at http://127.0.0.1:9 cannot be reached (bad port).\n',
    });
  });

  it('tells a server whose TLS certificate it does not trust from one it cannot reach', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-untrusted-'));
    const tls = selfSignedCertificate(dir, { commonName: '127.0.0.1', subjectAltName: 'IP:127.0.0.1' });
    const server = createServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (_, res) => res.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await gatehouse(t, ['status', '--url', url])).toMatchObject({
        code: 1,
        stderr:
          `gatehouse: The Gatehouse daemon at ${url} cannot be reached: its TLS certificate is not trusted here ` +
          "(DEPTH_ZERO_SELF_SIGNED_CERT); if it is signed by a private CA, name that CA's certificate in NODE_EXTRA_CA_CERTS.\n",
      });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on usage errors, and has --help everywhere', async () => {
    for (const args of [
      ['nonsense'],
      ['agents', 'list', '--bogus'],
      ['agents', 'list', '--limit', 'many'],
      ['agents', 'list', '--status', 'sleeping'],
      ['agents', 'show'],
      ['keys', 'rotate', 'courier'],
      ['secret', 'get', 'courier'],
      ['run', '--', 'true'],
      ['completion', 'fish'],
    ]) {
      const run = await gatehouse(t, args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^gatehouse: \S/);
    }
    for (const args of [['--help'], ['agents', '--help'], ['keys', 'rotate', '--help'], ['run', '--help']]) {
      const run = await gatehouse(t, args);
      expect({ args, code: run.code }).toEqual({ args, code: 0 });
      expect(run.stdout).toMatch(/^Usage: gatehouse /);
    }
  });

  it('follows the audit log as it happens', async () => {
    let markReady!: () => void;
    let markCreated!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const created = new Promise<void>((resolve) => (markCreated = resolve));
    const follower = startCli(t, ['audit', 'tail', '-n', '1', '--follow', '--type', 'agent.*'], {
      onStdout: (stdout) => {
        if (stdout.includes('agent.')) markReady();
        if (stdout.includes('agent:tracker')) markCreated();
      },
    });
    await ready;
    // The event stream is opened right after the first lines: an event made now must still show up.
    await t.request('POST', '/admin/tools', {
      token: admin,
      body: { name: 'noise', description: 'not an agent event' },
    });
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'tracker' } });
    await created;
    follower.child.kill('SIGINT');
    const run = await follower.done;
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\S+Z {2}#\d+ {2}agent\.created +success +user:admin {2}agent:tracker$/);
  });
});
