import keytar from 'keytar';
import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { gatehouse, startCli } from './test-cli.js';

const CLIENT_SECRET = 'client-secret-cli-3b8e1f0a';

/** The admin's browser: the provider consents at once and sends it back to the daemon's callback. */
async function consentInBrowser(authorizationUrl: string): Promise<number> {
  const consent = await fetch(authorizationUrl, { redirect: 'manual' });
  const callback = await fetch(consent.headers.get('location')!);
  return callback.status;
}

describe('gatehouse connections: OAuth accounts and grants', () => {
  let t: TestDaemon;
  let admin: string;
  const oauth = new OAuth2Server();
  const revoked: string[] = [];
  let connectionId: string;
  /** The connection's refresh-token items (each connect writes a new account, `connection:<id>:<uuid>`). */
  const refreshTokens = async () =>
    (await keytar.findCredentials(t.keychainService))
      .filter((item) => item.account.startsWith(`connection:${connectionId}`))
      .map((item) => item.password);

  beforeAll(async () => {
    await oauth.issuer.keys.generate('RS256');
    await oauth.start(0, '127.0.0.1');
    // RFC 7009 revocation is form-encoded; the mock parses only JSON there, so the form is read here.
    oauth.service.on('beforeRevoke', (_response: unknown, request: NodeJS.ReadableStream) => {
      let form = '';
      request.on('data', (chunk: Buffer) => (form += chunk.toString()));
      request.on('end', () => revoked.push(new URLSearchParams(form).get('token') ?? ''));
    });
    ({ t, admin } = await startWithAdmin());
    const login = await gatehouse(t, ['login', '--username', ADMIN.username], { stdin: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(async () => {
    await oauth.stop();
    await t.dispose();
  });

  it('adds an OAuth connection, its client secret from stdin into the keychain only', async () => {
    const issuer = oauth.issuer.url!;
    const add = await gatehouse(
      t,
      [
        'connections',
        'add',
        'github',
        'https://api.github.com',
        '--oauth',
        '--authorization-url',
        `${issuer}/authorize`,
        '--token-url',
        `${issuer}/token`,
        '--revocation-url',
        `${issuer}/revoke`,
        '--client-id',
        'gatehouse-cli',
        '--client-secret',
        '--secret-stdin',
        '--scopes',
        'repo,read:user',
      ],
      { stdin: `${CLIENT_SECRET}\n` },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('gatehouse connections connect github');
    const show = await gatehouse(t, ['connections', 'show', 'github', '--json']);
    const connection = JSON.parse(show.stdout) as { id: string; oauth: Record<string, unknown> };
    expect(connection.oauth).toMatchObject({
      client_id: 'gatehouse-cli',
      scopes: ['repo', 'read:user'],
      connected_at: null,
    });
    connectionId = connection.id;
    expect(await keytar.getPassword(t.keychainService, `connection-client:${connectionId}`)).toBe(CLIENT_SECRET);
    expect(show.stdout + add.stdout + add.stderr).not.toContain(CLIENT_SECRET);
    expect((await gatehouse(t, ['connections', 'show', 'github'])).stdout).toMatch(/credential\s+oauth, not connected/);

    const incomplete = await gatehouse(t, ['connections', 'add', 'x', 'https://x.test', '--oauth', '--client-id', 'c']);
    expect(incomplete.code).not.toBe(0);
    expect(incomplete.stderr).toContain('--authorization-url');
  });

  it('connect prints the provider’s address and waits until the daemon has the account', async () => {
    let opened: Promise<number> | undefined;
    const connect = startCli(t, ['connections', 'connect', 'github'], {
      onStdout: (stdout) => {
        const url = stdout.split('\n').find((line) => line.startsWith('http'));
        if (url && !opened) opened = consentInBrowser(url);
      },
    });
    const run = await connect.done;
    expect(run.code, run.stderr).toBe(0);
    expect(await opened).toBe(200);
    expect(run.stderr).toContain('Connected an account to github');
    const authorize = new URL(run.stdout.trim());
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${t.url}/connections/oauth/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(await refreshTokens()).toHaveLength(1);
    expect((await gatehouse(t, ['connections', 'list'])).stdout).toMatch(/oauth, connected \d{4}-/);
  });

  it('connect gives up after --timeout when nobody consents, and --no-wait returns at once', async () => {
    const waited = await gatehouse(t, ['connections', 'connect', 'github', '--timeout', '1']);
    expect(waited.code).not.toBe(0);
    expect(waited.stderr).toContain('No account was connected to github in time');
    const quick = await gatehouse(t, ['connections', 'connect', 'github', '--no-wait']);
    expect(quick.code, quick.stderr).toBe(0);
    expect(quick.stdout.trim()).toMatch(new RegExp(`^${oauth.issuer.url!}/authorize\\?`));
  });

  it('disconnect revokes the refresh token at the provider and deletes it', async () => {
    const [refresh] = await refreshTokens();
    const disconnect = await gatehouse(t, ['connections', 'disconnect', 'github']);
    expect(disconnect.code, disconnect.stderr).toBe(0);
    await expect.poll(() => revoked).toContain(refresh);
    expect(await refreshTokens()).toEqual([]);
    expect((await gatehouse(t, ['connections', 'show', 'github'])).stdout).toMatch(/oauth, not connected/);
  });

  it('connect refuses a connection with a fixed secret', async () => {
    await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'fixed',
        base_url: 'https://api.example.com',
        secret: 's',
        injection: { kind: 'query', name: 'key' },
      },
    });
    const refused = await gatehouse(t, ['connections', 'connect', 'fixed']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('not an OAuth connection');
  });

  it('grants a connection narrowed, lists the grants and revokes one', async () => {
    await t.request('POST', '/admin/connections', {
      token: admin,
      body: {
        name: 'api',
        base_url: 'https://api.example.com',
        secret: 's',
        injection: { kind: 'query', name: 'key' },
        allowed_paths: ['/v1/**'],
      },
    });
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'reader' } });
    const grant = await gatehouse(t, [
      'connections',
      'grant',
      'api',
      '--agent',
      'reader',
      '--methods',
      'GET',
      '--paths',
      '/v1/models/*',
    ]);
    expect(grant.code, grant.stderr).toBe(0);
    expect(grant.stdout).toMatch(/agent reader\s+GET\s+\/v1\/models\/\*/);
    const wider = await gatehouse(t, ['connections', 'grant', 'api', '--agent', 'reader', '--paths', '/admin/**']);
    expect(wider.code).not.toBe(0);
    expect(wider.stderr).toContain('only narrows');
    const both = await gatehouse(t, ['connections', 'grant', 'api', '--agent', 'reader', '--role', 'x']);
    expect(both.code).not.toBe(0);
    const listed = JSON.parse((await gatehouse(t, ['connections', 'grants', 'api', '--json'])).stdout) as unknown[];
    expect(listed).toEqual([
      { subject: 'agent', name: 'reader', allowed_methods: ['GET'], allowed_paths: ['/v1/models/*'] },
    ]);
    expect((await gatehouse(t, ['connections', 'revoke-grant', 'api', '--agent', 'reader'])).code).toBe(0);
    expect(JSON.parse((await gatehouse(t, ['connections', 'grants', 'api', '--json'])).stdout)).toEqual([]);
  });
});
