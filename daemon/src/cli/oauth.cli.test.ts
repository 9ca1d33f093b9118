import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { sqlRows } from '../testing/sql.js';
import { gatehouse } from './test-cli.js';

describe('gatehouse oauth', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const login = await gatehouse(t, ['login', '--username', ADMIN.username], { stdin: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(() => t.dispose());

  it('adds a public and a confidential client, lists them without the secret, and removes one', async () => {
    const pub = await gatehouse(t, [
      'oauth',
      'clients',
      'add',
      'Team IDE',
      '--redirect-uri',
      'http://127.0.0.1/callback',
      '--redirect-uri',
      'http://[::1]/callback',
    ]);
    expect(pub.code, pub.stderr).toBe(0);
    const publicId = /client_id\s+(gatehouse-[\w-]+)/.exec(pub.stdout)![1]!;
    expect(pub.stdout).not.toContain('client_secret');

    const conf = await gatehouse(t, [
      'oauth',
      'clients',
      'add',
      'Build service',
      '--redirect-uri',
      'https://build.example/callback',
      '--confidential',
      '--json',
    ]);
    expect(conf.code, conf.stderr).toBe(0);
    const created = JSON.parse(conf.stdout) as { client_id: string; client_secret: string; confidential: boolean };
    expect(created).toMatchObject({ confidential: true, client_secret: expect.stringMatching(/^[\w-]{43}$/) });

    const listed = await gatehouse(t, ['oauth', 'clients', 'list', '--json']);
    const clients = JSON.parse(listed.stdout) as Array<{ client_id: string; redirect_uris: string[] }>;
    expect(clients.map((c) => c.client_id).sort()).toEqual([publicId, created.client_id].sort());
    expect(clients.find((c) => c.client_id === publicId)!.redirect_uris).toEqual([
      'http://127.0.0.1/callback',
      'http://[::1]/callback',
    ]);
    const table = await gatehouse(t, ['oauth', 'clients', 'list']);
    expect(table.stdout).toMatch(/Build service\s+confidential\s+https:\/\/build\.example\/callback/);
    expect(listed.stdout + table.stdout).not.toContain(created.client_secret);
    const stored = JSON.stringify(await sqlRows(t, `SELECT payload FROM oauth_records`));
    expect(stored).not.toContain(created.client_secret);

    const removed = await gatehouse(t, ['oauth', 'clients', 'remove', publicId]);
    expect(removed.code, removed.stderr).toBe(0);
    const after = JSON.parse((await gatehouse(t, ['oauth', 'clients', 'list', '--json'])).stdout) as unknown[];
    expect(after).toHaveLength(1);

    const again = await gatehouse(t, ['oauth', 'clients', 'remove', publicId]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('not found');
  });

  it('refuses a client without a redirect URI or with an invalid one', async () => {
    const none = await gatehouse(t, ['oauth', 'clients', 'add', 'Nowhere']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('--redirect-uri');
    const bad = await gatehouse(t, ['oauth', 'clients', 'add', 'Bad', '--redirect-uri', 'not a uri']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/redirect_uris/);
  });

  it('shows the registration methods and switches the ones named, leaving the others', async () => {
    const shown = await gatehouse(t, ['oauth', 'registration']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/pre-registered\s+on\n.*metadata-documents\s+on\n.*dynamic\s+on/s);

    const set = await gatehouse(t, ['oauth', 'registration', 'set', '--dynamic', 'off', '--json']);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({
      pre_registered_clients: true,
      dynamic_registration: false,
      client_id_metadata_documents: true,
    });
    expect((await t.request('GET', '/admin/oauth/registration', { token: admin })).body.dynamic_registration).toBe(
      false,
    );
    const register = await fetch(`${t.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }),
    });
    expect(register.status).toBe(403);

    const both = await gatehouse(t, ['oauth', 'registration', 'set', '--pre-registered', 'off', '--dynamic', 'on']);
    expect(both.stdout).toMatch(/pre-registered\s+off\n.*metadata-documents\s+on\n.*dynamic\s+on/s);

    const nothing = await gatehouse(t, ['oauth', 'registration', 'set']);
    expect(nothing.code).not.toBe(0);
    expect(nothing.stderr).toContain('--pre-registered');
    const wrong = await gatehouse(t, ['oauth', 'registration', 'set', '--dynamic', 'maybe']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('use "on" or "off"');
  });
});
