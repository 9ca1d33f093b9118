import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import keytar from 'keytar';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentKeyList, AgentList, WorkflowList } from '../../../shared/src/index.js';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse <args>` from source, as a user would, against the test daemon's home and keychain. */
function gatehouse(
  t: TestDaemon,
  args: string[],
  options: { stdin?: string; onStdout?: (text: string, pid: number) => void } = {},
) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, GATEHOUSE_HOME: t.home, GATEHOUSE_KEYCHAIN_SERVICE: t.keychainService },
  });
  const run: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    run.stdout += chunk;
    options.onStdout?.(run.stdout, child.pid!);
  });
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  return new Promise<Run>((resolve) => child.once('close', (code) => resolve({ ...run, code })));
}

describe('the gatehouse CLI', () => {
  let t: TestDaemon;
  let apiKey: string;
  let agentId: string;
  beforeAll(async () => {
    let admin: string;
    ({ t, admin } = await startWithAdmin());
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'courier', issue_key: true },
    });
    apiKey = created.body.agent_key.api_key;
    agentId = created.body.id;
    await t.request('POST', '/admin/workflows', { token: admin, body: { name: 'pipeline' } });
  });
  afterAll(() => t.dispose());

  it('signs in with the session in the keychain; reads print the contract’s JSON; logout forgets it', async () => {
    const login = await gatehouse(t, ['login', '--username', ADMIN.username, '--password-stdin'], {
      stdin: `${ADMIN.password}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
    expect(await keytar.getPassword(t.keychainService, `cli-session:${t.url}`)).toMatch(/\S{20,}/);

    const agents = await gatehouse(t, ['agents', 'list', '--json']);
    expect(Value.Check(AgentList, JSON.parse(agents.stdout))).toBe(true);
    const keys = await gatehouse(t, ['keys', 'list', 'courier', '--json']);
    expect(Value.Check(AgentKeyList, JSON.parse(keys.stdout))).toBe(true);
    const workflows = await gatehouse(t, ['workflows', 'list', '--json']);
    expect(Value.Check(WorkflowList, JSON.parse(workflows.stdout))).toBe(true);
    const table = await gatehouse(t, ['agents', 'list']);
    expect(table.stdout).toMatch(/^NAME +STATUS/);
    expect(table.stdout).toContain('courier');

    const missing = await gatehouse(t, ['agents', 'show', 'nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);

    expect((await gatehouse(t, ['logout'])).code).toBe(0);
    expect(await keytar.getPassword(t.keychainService, `cli-session:${t.url}`)).toBeNull();
    const signedOut = await gatehouse(t, ['agents', 'list']);
    expect(signedOut).toMatchObject({ code: 1, stderr: expect.stringContaining('gatehouse login') });
  });

  it('exits 2 on a usage error', async () => {
    expect((await gatehouse(t, ['agents', 'list', '--bogus'])).code).toBe(2);
    expect((await gatehouse(t, ['nonsense'])).code).toBe(2);
  });

  it('runs a program with the credentials in its environment, never on its command line', async () => {
    const script = `
      const { readFileSync } = require('node:fs');
      const cmdline = readFileSync('/proc/self/cmdline', 'utf8');
      fetch(process.env.GATEHOUSE_URL + '/v1/whoami', { headers: { authorization: 'Bearer ' + process.env.GATEHOUSE_API_KEY } })
        .then((r) => r.json())
        .then((me) => {
          console.log(JSON.stringify({ name: me.agent.name, id: process.env.GATEHOUSE_AGENT_ID, keyInCmdline: cmdline.includes(process.env.GATEHOUSE_API_KEY) }));
          process.exit(7);
        });`;
    const run = await gatehouse(t, ['run', '--agent', 'default/courier', '--', process.execPath, '-e', script]);
    expect(run.code, run.stderr).toBe(7);
    expect(JSON.parse(run.stdout)).toEqual({ name: 'courier', id: agentId, keyInCmdline: false });
  });

  it('forwards SIGTERM to the program and exits with its code', async () => {
    const script = `process.on('SIGTERM', () => process.exit(42)); console.log('ready'); setInterval(() => {}, 1000);`;
    let signalled = false;
    const run = await gatehouse(t, ['run', '--agent', 'default/courier', '--', process.execPath, '-e', script], {
      onStdout: (text, pid) => {
        if (!signalled && text.includes('ready')) {
          signalled = true;
          process.kill(pid, 'SIGTERM');
        }
      },
    });
    expect(run.code).toBe(42);
  });

  it('reads the secret from the keychain, also with the daemon stopped; a missing agent is one clear line', async () => {
    await t.stop();
    const key = await gatehouse(t, ['secret', 'get', 'default/courier']);
    expect(key).toMatchObject({ code: 0, stdout: `${apiKey}\n` });
    const identity = await gatehouse(t, ['secret', 'get', 'default/courier', '--identity']);
    expect(identity.stdout).toContain('BEGIN PRIVATE KEY');
    const missing = await gatehouse(t, ['secret', 'get', 'default/nobody']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `gatehouse: no key for default/nobody in the keychain (service "${t.keychainService}").\n`,
    );
    const noDaemon = await gatehouse(t, ['agents', 'list']);
    expect(noDaemon).toMatchObject({ code: 1, stderr: expect.stringContaining('no Gatehouse daemon is running') });
  });
});
