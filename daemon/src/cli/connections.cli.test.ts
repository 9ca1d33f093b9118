import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { gatehouse } from './test-cli.js';

const SECRET = 'ghp_upstream-cli-secret-5d1e0b7a9c';

describe('gatehouse connections', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    const login = await gatehouse(t, ['login', '--username', ADMIN.username], { stdin: `${ADMIN.password}\n` });
    expect(login.code, login.stderr).toBe(0);
  });
  afterAll(() => t.dispose());

  it('adds a connection with the secret from stdin, lists it without the secret, and removes it', async () => {
    const add = await gatehouse(
      t,
      [
        'connections',
        'add',
        'github',
        'https://api.github.com',
        '--header',
        'Authorization: token {secret}',
        '--methods',
        'GET',
        '--paths',
        '/repos/**',
        '--secret-stdin',
      ],
      { stdin: `${SECRET}\n` },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('connection:github');

    const listed = await gatehouse(t, ['connections', 'list', '--json']);
    const [connection] = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(connection).toMatchObject({
      name: 'github',
      injection: { kind: 'header', name: 'Authorization', template: 'token {secret}' },
      allowed_methods: ['GET'],
      allowed_paths: ['/repos/**'],
    });
    expect(listed.stdout + add.stdout + add.stderr).not.toContain(SECRET);
    expect(await keytar.getPassword(t.keychainService, `connection:${connection!.id as string}`)).toBe(SECRET);

    const table = await gatehouse(t, ['connections', 'list']);
    expect(table.stdout).toContain('Authorization: token {secret}');

    const bad = await gatehouse(t, ['connections', 'add', 'x', 'https://x.test', '--header', 'nothing'], {
      stdin: 's\n',
    });
    expect(bad.code).not.toBe(0);

    expect((await gatehouse(t, ['connections', 'remove', 'github'])).code).toBe(0);
    expect(await keytar.getPassword(t.keychainService, `connection:${connection!.id as string}`)).toBeNull();
    expect(JSON.parse((await gatehouse(t, ['connections', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('sets, lists and removes usage limits', async () => {
    await t.request('POST', '/admin/agents', { token: admin, body: { name: 'limited' } });
    const set = await gatehouse(t, [
      'limits',
      'set',
      'limited',
      '--window',
      'minute=60/1m',
      '--window',
      'day=1000/1d',
      '--remaining',
      '500',
      '--refill',
      '500/30d',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const limit = JSON.parse(set.stdout) as { id: string };
    expect(limit).toMatchObject({
      windows: [
        expect.objectContaining({ name: 'minute', limit: 60, seconds: 60, used: 0 }),
        expect.objectContaining({ name: 'day', seconds: 86_400 }),
      ],
      remaining: 500,
      refill: { amount: 500, interval_seconds: 30 * 86_400 },
    });
    const table = await gatehouse(t, ['limits', 'list', 'limited']);
    expect(table.stdout).toContain('minute 0/60 per 60s');
    expect((await gatehouse(t, ['limits', 'set', 'limited', '--window', 'sixty'])).code).not.toBe(0);
    expect((await gatehouse(t, ['limits', 'remove', 'limited', limit.id])).code).toBe(0);
    expect(JSON.parse((await gatehouse(t, ['limits', 'list', 'limited', '--json'])).stdout)).toEqual([]);
  });
});
