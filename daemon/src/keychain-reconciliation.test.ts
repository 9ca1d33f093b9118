import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotpCode } from './domain/auth/totp.js';
import { startHttpUpstream, type HttpUpstream } from './testing/mcp-upstream.js';
import { ADMIN, startWithAdmin, type TestDaemon } from './testing/test-daemon.js';

const TOTP_STEP_MS = 30_000;

/** A stdio MCP server that starts only when its secret environment variable holds the right value. */
const SERVER_NEEDING_ITS_SECRET = `
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
if (process.env.SERVER_TOKEN !== 'env-secret-5e1f0c') process.exit(3);
const server = new McpServer({ name: 'needs-secret', version: '1.0.0' });
server.registerTool('ping', { description: 'Answers pong' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
await server.connect(new StdioServerTransport());
`;

describe('the agents keychain, reconciled with the database', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const items = async () =>
    new Map((await keytar.findCredentials(t.keychainService)).map((item) => [item.account, item.password]));
  const createAgent = async (name: string) =>
    (await t.request('POST', '/admin/agents', { token: admin, body: { name, issue_key: true } })).body;
  const authenticates = async (agentId: string, secret: string) =>
    (await t.request('POST', '/v1/auth/token', { body: { agent_id: agentId, secret } })).status === 200;

  it('removes at start what a crash left (orphan key and identity items, aliases of no agent) and repairs an alias holding a dead key', async () => {
    const keeper = await createAgent('keeper');
    const before = await items();
    expect(before.get('agent:default/keeper')).toBe(keeper.agent_key.api_key);

    // What a kill -9 between the keychain writes and the commit leaves: items of rows never
    // committed, and an existing agent's alias overwritten by a key that does not exist.
    await t.stop();
    const deadKey = `gh_agent_${randomUUID().replaceAll('-', '')}`;
    await keytar.setPassword(t.keychainService, `agent-key:${randomUUID()}`, deadKey);
    await keytar.setPassword(t.keychainService, `agent-identity:${randomUUID()}`, 'orphan identity');
    await keytar.setPassword(t.keychainService, 'agent:default/keeper', deadKey);
    await keytar.setPassword(t.keychainService, 'agent:default/never-committed', deadKey);
    t = await t.restart();
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;

    expect(await items()).toEqual(before);
    expect(await authenticates(keeper.id, (await items()).get('agent:default/keeper')!)).toBe(true);
    const audit = await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin });
    expect(audit.body).toHaveLength(1);
    expect(audit.body[0]).toMatchObject({
      actor: 'system',
      metadata: { orphanKeys: 1, orphanIdentities: 1, aliasesRemoved: 1, aliasesRepaired: 1 },
    });

    // A start with nothing to mend changes nothing and records nothing.
    t = await t.restart();
    admin = (await t.login('admin', 'correct horse battery staple')).body.access_token;
    expect(await items()).toEqual(before);
    expect((await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin })).body).toHaveLength(1);
  });

  it('takes the alias and the key items with a permanent revocation and with a delete', async () => {
    const revoked = await createAgent('revoked-for-good');
    const deleted = await createAgent('deleted');
    expect((await items()).get('agent:default/revoked-for-good')).toBe(revoked.agent_key.api_key);

    expect((await t.request('DELETE', '/v1/agents/revoked-for-good', { token: admin })).status).toBe(200);
    expect((await t.request('DELETE', '/admin/agents/deleted', { token: admin })).status).toBe(200);

    const left = await items();
    for (const account of [
      'agent:default/revoked-for-good',
      `agent-key:${revoked.agent_key.id}`,
      'agent:default/deleted',
      `agent-key:${deleted.agent_key.id}`,
      `agent-identity:${deleted.id}`,
    ])
      expect(left.has(account), account).toBe(false);
  });

  describe('connections, MCP servers and TOTP secrets', () => {
    let provider: Server;
    let providerUrl: string;
    const authorizations: Array<string | undefined> = [];
    let mcpUpstream: HttpUpstream;
    beforeAll(async () => {
      provider = createServer((request, response) => {
        authorizations.push(request.headers.authorization);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
      await new Promise<void>((resolve) => provider.listen(0, '127.0.0.1', resolve));
      providerUrl = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
      mcpUpstream = await startHttpUpstream({ token: 'mcp-credential-2c7d' });
    });
    afterAll(async () => {
      provider.close();
      await mcpUpstream.close();
    });

    const server = async (name: string, status: string) => {
      for (let attempt = 0; ; attempt++) {
        const { body } = await t.request('GET', `/v1/servers/${name}`, { token: admin });
        if (body.status === status || attempt === 200) return body;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const created = async (path: string, body: unknown) => {
      const answer = await t.request('POST', path, { token: admin, body });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return answer.body;
    };

    it('removes at start the items of rows that are gone or never committed, keeps every live one working, and leaves what the daemon did not write', async () => {
      const connection = await created('/admin/connections', {
        name: 'provider',
        base_url: providerUrl,
        secret: 'sk-live-connection-8a1b',
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
      });
      const oauth = await created('/admin/connections', {
        name: 'oauth-provider',
        base_url: providerUrl,
        injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
        oauth: {
          authorization_url: `${providerUrl}/authorize`,
          token_url: `${providerUrl}/token`,
          client_id: 'gatehouse-test',
          client_secret: 'client-secret-live-6d2e',
        },
      });
      const caller = await created('/admin/agents', {
        name: 'broker-caller',
        issue_key: true,
        allowed_tools: ['connection:provider', 'connection:oauth-provider'],
      });
      const stdio = await created('/admin/servers', {
        name: 'needs-secret',
        transport: 'stdio',
        command: process.execPath,
        args: ['--input-type=module', '-e', SERVER_NEEDING_ITS_SECRET],
        secret_env: { SERVER_TOKEN: 'env-secret-5e1f0c' },
      });
      const remote = await created('/admin/servers', {
        name: 'remote',
        transport: 'http',
        url: mcpUpstream.url,
        credential: 'mcp-credential-2c7d',
      });
      expect((await server('needs-secret', 'running')).status).toBe('running');
      expect((await server('remote', 'running')).status).toBe('running');
      const user = await created('/admin/users', { username: 'two-factor', password: 'a long enough password' });
      const userToken = (await t.login('two-factor', 'a long enough password')).body.access_token;
      const totpSecret = (await t.request('POST', '/auth/mfa/setup', { token: userToken })).body.secret;
      const enabled = await t.request('POST', '/auth/mfa/verify', {
        token: userToken,
        body: { code: currentTotpCode(totpSecret) },
      });
      expect(enabled.body).toEqual({ mfa_enabled: true });
      const live = await items();

      // What a kill -9 leaves: the items of a create that never committed, of a delete whose rows
      // were gone, of an update that named other variables, of a revocation that did not finish.
      await t.stop();
      const orphans = [
        `connection:${randomUUID()}`,
        `connection:${oauth.id}`,
        `connection-client:${randomUUID()}`,
        `mcp-server-env:${randomUUID()}:SERVER_TOKEN`,
        `mcp-server-env:${stdio.id}:NO_LONGER_NAMED`,
        `mcp-server-credential:${randomUUID()}`,
        `mcp-server-credential:${stdio.id}`,
        `totp:${randomUUID()}`,
      ];
      for (const account of orphans) await keytar.setPassword(t.keychainService, account, `orphan ${account}`);
      // Not the daemon's: the CLI's session and an item under no prefix it writes.
      const foreign = new Map([
        [`cli-session:${t.url}`, '{"refresh_token":"cli"}'],
        ['someone-elses-item', 'left alone'],
      ]);
      for (const [account, value] of foreign) await keytar.setPassword(t.keychainService, account, value);
      t = await t.restart();
      admin = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;

      expect(await items()).toEqual(new Map([...live, ...foreign]));
      const audit = await t.request('GET', '/v1/audit?event_type=keychain.reconciled', { token: admin });
      expect(audit.body[0]).toMatchObject({
        actor: 'system',
        metadata: {
          orphanKeys: 0,
          orphanIdentities: 0,
          aliasesRemoved: 0,
          aliasesRepaired: 0,
          orphanConnectionSecrets: 2,
          orphanConnectionClientSecrets: 1,
          orphanServerEnv: 2,
          orphanServerCredentials: 2,
          orphanTotpSecrets: 1,
        },
      });

      // Every live item still does its work.
      const brokered = await fetch(`${t.url}/proxy/provider/anything`, {
        headers: { authorization: `Bearer ${caller.agent_key.api_key}` },
      });
      expect(brokered.status).toBe(200);
      expect(authorizations.at(-1)).toBe('Bearer sk-live-connection-8a1b');
      expect(live.get(`connection-client:${oauth.id}`)).toBe('client-secret-live-6d2e');
      expect(live.get(`connection:${connection.id}`)).toBe('sk-live-connection-8a1b');
      expect((await server('needs-secret', 'running')).status).toBe('running');
      expect((await server('remote', 'running')).status).toBe('running');
      expect(mcpUpstream.authorizations.at(-1)).toBe('Bearer mcp-credential-2c7d');
      expect(remote.has_credential).toBe(true);
      expect((await t.login('two-factor', 'a long enough password')).body.code).toBe('mfa_required');
      const signedIn = await t.login(
        'two-factor',
        'a long enough password',
        currentTotpCode(totpSecret, Date.now() + TOTP_STEP_MS),
      );
      expect(signedIn.status).toBe(200);
      expect(live.get(`totp:${user.id}`)).toBe(totpSecret);
      for (const [account] of foreign) await keytar.deletePassword(t.keychainService, account);
    });

    it('never lets a disconnected OAuth connection use a refresh token left in the keychain', async () => {
      const oauth = (await t.request('GET', '/v1/connections/oauth-provider', { token: admin })).body;
      expect(oauth.oauth.connected_at).toBeNull();
      // A revocation whose keychain delete failed leaves the token while the daemon runs.
      await t.daemon.services.secrets.set(`connection:${oauth.id}`, 'refresh-token-of-a-revoked-account');
      const caller = (await t.request('POST', '/admin/agents/broker-caller/keys', { token: admin, body: {} })).body;
      const before = authorizations.length;
      const brokered = await fetch(`${t.url}/proxy/oauth-provider/anything`, {
        headers: { authorization: `Bearer ${caller.api_key}` },
      });
      expect(brokered.status).toBe(409);
      expect(((await brokered.json()) as { code: string }).code).toBe('credentials_unrecoverable');
      // Neither the token endpoint nor the upstream was asked.
      expect(authorizations.length).toBe(before);
    });
  });
});
