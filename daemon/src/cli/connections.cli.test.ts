import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { gatehouse } from './test-cli.js';

const SECRET = 'ghp_upstream-cli-secret-5d1e0b7a9c';

describe('gatehouse connections', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    ({ t } = await startWithAdmin());
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
});
