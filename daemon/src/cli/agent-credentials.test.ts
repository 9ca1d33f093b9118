import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { gatehouse, startCli } from './test-cli.js';

/** A Node program for `gatehouse run` that reports what it was given, then exits with `code`. */
const reporter = (code: number) => `
  const cmdline = (pid) => require('node:fs').readFileSync('/proc/' + pid + '/cmdline', 'utf8');
  const key = process.env.GATEHOUSE_API_KEY;
  fetch(process.env.GATEHOUSE_URL + '/v1/whoami', { headers: { authorization: 'Bearer ' + key } })
    .then((response) => response.json())
    .then((me) => {
      console.log(JSON.stringify({
        name: me.agent.name,
        agentId: process.env.GATEHOUSE_AGENT_ID,
        sameId: me.agent.id === process.env.GATEHOUSE_AGENT_ID,
        keyInOwnCmdline: cmdline(process.pid).includes(key),
        keyInGatehouseCmdline: cmdline(process.ppid).includes(key),
        humanToken: process.env.GATEHOUSE_TOKEN ?? null,
        unlockers: [process.env.GATEHOUSE_PASSPHRASE, process.env.GATEHOUSE_KEYRING_PASSWORD].filter(Boolean),
      }));
      process.exit(${code});
    });`;

describe('an agent’s credentials from the keychain: secret get and run', () => {
  let t: TestDaemon;
  let admin: string;
  let apiKey: string;
  let agentId: string;
  let publicKey: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const created = await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'courier', issue_key: true },
    });
    ({ id: agentId, public_key: publicKey } = created.body);
    apiKey = created.body.agent_key.api_key;
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'keyless' } });
  });
  afterAll(() => t.dispose());

  it('runs a program with the credentials in its environment, never on a command line', async () => {
    const run = await gatehouse(t, ['run', '--agent', 'default/courier', '--', process.execPath, '-e', reporter(7)], {
      env: {
        GATEHOUSE_TOKEN: 'ghp_the_humans_own_token',
        GATEHOUSE_PASSPHRASE: 'the secrets file passphrase',
        GATEHOUSE_KEYRING_PASSWORD: 'the keyring password',
      },
    });
    expect(run.code, run.stderr).toBe(7);
    expect(JSON.parse(run.stdout)).toEqual({
      name: 'courier',
      agentId,
      sameId: true,
      keyInOwnCmdline: false,
      keyInGatehouseCmdline: false,
      humanToken: null,
      unlockers: [],
    });
    expect((await gatehouse(t, ['run', '--agent', 'default/courier', '--', 'true'])).code).toBe(0);
    const missing = await gatehouse(t, ['run', '--agent', 'default/courier', '--', 'no-such-program-here']);
    expect(missing).toMatchObject({
      code: 127,
      stderr: expect.stringMatching(/^gatehouse: cannot run no-such-program-here/),
    });
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)(
    'passes %s on to the program and exits with its code',
    async (signal) => {
      const script = `process.on('${signal}', () => process.exit(42)); console.log('ready'); setInterval(() => {}, 1000);`;
      const run = startCli(t, ['run', '--agent', 'default/courier', '--', process.execPath, '-e', script], {
        onStdout: (stdout, child) => stdout === 'ready\n' && child.kill(signal),
      });
      expect((await run.done).code).toBe(42);
    },
  );

  it('exits with 128 + the signal number when a signal ends the program', async () => {
    const run = await gatehouse(t, ['run', '--agent', 'default/courier', '--', 'sh', '-c', 'kill -KILL $$']);
    expect(run.code).toBe(128 + 9);
  });

  it('prints the newest active key, and the identity that matches the agent’s public key', async () => {
    expect(await gatehouse(t, ['secret', 'get', 'default/courier'])).toMatchObject({ code: 0, stdout: `${apiKey}\n` });
    const json = await gatehouse(t, ['secret', 'get', 'default/courier', '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ agent: 'default/courier', api_key: apiKey });

    const keyId = (await t.request('GET', '/v1/agents/courier/keys', { token: admin })).body[0].id;
    const rotated = await t.request('POST', `/admin/agents/courier/keys/${keyId}/rotate`, { token: admin, body: {} });
    apiKey = rotated.body.api_key;
    expect((await gatehouse(t, ['secret', 'get', 'default/courier'])).stdout).toBe(`${apiKey}\n`);

    const identity = await gatehouse(t, ['secret', 'get', 'default/courier', '--identity']);
    const derived = createPublicKey(createPrivateKey(identity.stdout)).export({ type: 'spki', format: 'pem' });
    expect(derived).toBe(publicKey);
  });

  it('reads the secrets with the daemon stopped; a missing agent or key is one clear line', async () => {
    await t.stop();
    expect(await gatehouse(t, ['secret', 'get', 'default/courier'])).toMatchObject({ code: 0, stdout: `${apiKey}\n` });
    const identity = await gatehouse(t, ['secret', 'get', 'default/courier', '--identity', '--json']);
    expect(JSON.parse(identity.stdout)).toMatchObject({
      agent_id: agentId,
      private_key: expect.stringContaining('PRIVATE KEY'),
    });

    const missing = await gatehouse(t, ['secret', 'get', 'default/nobody']);
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'gatehouse: there is no agent default/nobody.\n' });
    const keyless = await gatehouse(t, ['secret', 'get', 'default/keyless']);
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toMatch(/^gatehouse: agent default\/keyless has no active key in the OS keychain .*\n$/);
    const noIdentity = await gatehouse(t, ['secret', 'get', 'other/courier', '--identity']);
    expect(noIdentity.stderr).toBe('gatehouse: there is no agent other/courier.\n');

    // The program still starts; its URL is where the daemon will listen.
    const run = await gatehouse(t, ['run', '--agent', 'default/courier', '--', 'sh', '-c', 'echo "$GATEHOUSE_URL"']);
    expect(run).toMatchObject({ code: 0, stdout: 'http://127.0.0.1:7420\n' });
    expect(run.stderr).toContain('no daemon is running');
  });

  it('reads the encrypted secrets file of a daemon run with --secret-store=file', async () => {
    const passphrase = 'a passphrase for the file store';
    const { t: fileDaemon, admin: fileAdmin } = await startWithAdmin({ config: { secretStore: 'file', passphrase } });
    try {
      const created = await fileDaemon.request('POST', '/admin/agents', {
        token: fileAdmin,
        body: { name: 'filed', issue_key: true },
      });
      const env = { GATEHOUSE_SECRET_STORE: 'file', GATEHOUSE_PASSPHRASE: passphrase };
      const read = await gatehouse(fileDaemon, ['secret', 'get', 'default/filed'], { env });
      expect(read).toMatchObject({ code: 0, stdout: `${created.body.agent_key.api_key}\n` });
      const wrong = await gatehouse(fileDaemon, ['secret', 'get', 'default/filed'], {
        env: { ...env, GATEHOUSE_PASSPHRASE: 'not it' },
      });
      expect(wrong).toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/^gatehouse: Wrong GATEHOUSE_PASSPHRASE .*\n$/),
      });
    } finally {
      await fileDaemon.dispose();
    }
  });
});
