import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@gatehouse/shared';
import { Value } from 'typebox/value';
import { startHttpUpstream, type HttpUpstream } from '../testing/mcp-upstream.js';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { cliEnv, gatehouse } from './test-cli.js';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));
const everything = require.resolve('@modelcontextprotocol/server-everything/dist/index.js');

describe('gatehouse servers … and gatehouse mcp', () => {
  let t: TestDaemon;
  let admin: string;
  let upstream: HttpUpstream;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    upstream = await startHttpUpstream({ token: 'cli-credential-31c' });
    const login = await gatehouse(t, ['login', '--username', ADMIN.username], { stdin: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(async () => {
    await t.dispose();
    await upstream.close();
  });

  // Polled through the API: each `gatehouse` run starts a Node process.
  const untilRunning = async (name: string) => {
    for (let attempt = 0; attempt < 200; attempt += 1) {
      const { body: server } = await t.request('GET', `/v1/servers/${name}`, { token: admin });
      if (server.status === 'running') return server;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${name} did not start`);
  };

  it('registers a stdio server with a secret asked on stdin and an http server with a credential; lists, shows and removes them', async () => {
    const stdio = await gatehouse(
      t,
      [
        'servers',
        'add',
        'everything',
        '--env',
        'MODE=test',
        '--secret-env',
        'API_TOKEN',
        '--',
        process.execPath,
        everything,
      ],
      { stdin: 'cli-secret-0aa\n' },
    );
    expect(stdio.code, stdio.stderr).toBe(0);
    const http = await gatehouse(
      t,
      ['servers', 'add', 'remote', '--http-url', upstream.url, '--credential', '--json'],
      {
        stdin: 'cli-credential-31c\n',
      },
    );
    expect(http.code, http.stderr).toBe(0);
    expect(JSON.parse(http.stdout)).toMatchObject({ name: 'remote', has_credential: true });

    await untilRunning('everything');
    const running = JSON.parse((await gatehouse(t, ['servers', 'show', 'everything', '--json'])).stdout);
    expect(Value.Check(routes.getServer.response[200], running)).toBe(true);
    expect(running).toMatchObject({ env: { MODE: 'test' }, secret_env: ['API_TOKEN'], args: [everything] });
    await untilRunning('remote');

    const table = (await gatehouse(t, ['servers', 'list'])).stdout;
    expect(table).toMatch(/^NAME\s+TRANSPORT\s+STATUS\s+TOOLS/);
    expect(table).toMatch(/everything\s+stdio\s+running/);
    expect(table).toMatch(/remote\s+http\s+running\s+4/);
    expect(table + http.stdout + stdio.stderr).not.toMatch(/cli-secret-0aa|cli-credential-31c/);
    const shown = (await gatehouse(t, ['servers', 'show', 'remote'])).stdout;
    expect(shown).toContain('remote.echo');

    expect((await gatehouse(t, ['servers', 'disable', 'everything'])).stderr).toMatch(/everything: stopped/);
    expect((await gatehouse(t, ['servers', 'enable', 'everything'])).code).toBe(0);
    await untilRunning('everything');

    const both = await gatehouse(t, ['servers', 'add', 'x', '--http-url', upstream.url, '--', 'cmd']);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/either a command/);

    expect((await gatehouse(t, ['servers', 'remove', 'everything'])).code).toBe(0);
    expect((await t.request('GET', '/v1/servers/everything', { token: admin })).status).toBe(404);
  }, 120_000);

  it('gatehouse mcp relays a stdio client to the gateway as the agent, with the key from the keychain', async () => {
    await t.request('POST', '/admin/agents', {
      token: admin,
      body: { name: 'assistant', allowed_tools: ['remote.echo', 'remote.slow'], issue_key: true },
    });
    const client = new Client({ name: 'desktop-assistant', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: ['--import', 'tsx', MAIN, 'mcp', '--agent', 'default/assistant'],
        env: cliEnv(t) as Record<string, string>,
        stderr: 'pipe',
      }),
    );
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['remote.echo', 'remote.slow']);
      const echoed = await client.callTool({ name: 'remote.echo', arguments: { text: 'through stdio' } });
      expect(echoed.content).toEqual([{ type: 'text', text: 'through stdio' }]);
      // Progress from the upstream comes back through the gateway and the relay, all of it, on
      // every call: the last notification and the answer come out of the gateway back to back.
      for (let call = 0; call < 5; call += 1) {
        const progress: number[] = [];
        await client.callTool({ name: 'remote.slow', arguments: { ms: 40 } }, undefined, {
          onprogress: (update) => progress.push(update.progress),
        });
        expect(progress).toEqual([1, 2]);
      }
      await expect(client.callTool({ name: 'remote.add', arguments: { a: 1, b: 2 } })).rejects.toThrow(/not_granted/);
    } finally {
      await client.close();
    }

    const unknown = await gatehouse(t, ['mcp', '--agent', 'default/nobody']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no agent default\/nobody/);
  }, 120_000);
});
