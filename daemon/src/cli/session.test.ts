import { spawnSync } from 'node:child_process';
import keytar from 'keytar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotpCode } from '../domain/auth/totp.js';
import { filesHoldingData, readFiles } from '../testing/database-files.js';
import { ADMIN, startWithAdmin, type TestDaemon } from '../testing/test-daemon.js';
import { KeytarSecretStore } from '../secrets/keytar-store.js';
import { CliSession, sessionAccount } from './session.js';
import { gatehouse } from './test-cli.js';

const STEP_MS = 30_000;

describe('gatehouse login and logout: the session lives in the OS keychain', () => {
  let t: TestDaemon;
  let admin: string;
  let totpSecret: string;
  const stored = async () => JSON.parse((await keytar.getPassword(t.keychainService, sessionAccount(t.url)))!);
  const storeAgain = (session: object) =>
    keytar.setPassword(t.keychainService, sessionAccount(t.url), JSON.stringify(session));

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    totpSecret = (await t.request('POST', '/auth/mfa/setup', { token: admin })).body.secret;
    await t.request('POST', '/auth/mfa/verify', { token: admin, body: { code: currentTotpCode(totpSecret) } });
  });
  afterAll(() => t.dispose());

  it('asks for the TOTP code when the account has MFA on, and keeps the session only in the keychain', async () => {
    const wrong = await gatehouse(t, ['login', '-u', ADMIN.username], { stdin: `${ADMIN.password}\n000000\n` });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(await keytar.getPassword(t.keychainService, sessionAccount(t.url))).toBeNull();

    const code = currentTotpCode(totpSecret, Date.now() + STEP_MS);
    const login = await gatehouse(t, ['login', '-u', ADMIN.username], { stdin: `${ADMIN.password}\n${code}\n` });
    expect(login.code, login.stderr).toBe(0);

    const session = await stored();
    expect(session.refresh_token).toMatch(/^ghr_/);
    // secret-tool prints the items' secrets on stdout and their attributes on stderr.
    const search = spawnSync('secret-tool', ['search', '--all', 'service', t.keychainService], { encoding: 'utf8' });
    expect(search.stderr).toContain(`attribute.account = ${sessionAccount(t.url)}`);
    for (const [file, bytes] of readFiles(await filesHoldingData(t))) {
      expect({
        file,
        refresh: bytes.includes(session.refresh_token),
        access: bytes.includes(session.access_token),
      }).toEqual({ file, refresh: false, access: false });
    }

    const status = await gatehouse(t, ['status']);
    expect(status.stdout).toMatch(/^signed in +admin \(super_admin\), project default$/m);
    expect(status.stdout).toMatch(/^keychain +OS keychain \(Secret Service\), service "gatehouse-test-\w+" \(ok\)$/m);
  });

  it('reuses a fresh access token, and refreshes an expiring one once however many sessions race', async () => {
    const before = await stored();
    expect((await gatehouse(t, ['agents', 'list'])).code).toBe(0);
    expect(await stored()).toEqual(before);

    // The daemon ends a session whose refresh token is presented twice: concurrent refreshes must
    // queue. Sessions in one process race more tightly than processes that take a second to start.
    await storeAgain({ ...before, access_expires_at: 0 });
    const keychain = new KeytarSecretStore(t.keychainService);
    const tokens = await Promise.all([1, 2, 3, 4].map(() => new CliSession(keychain, t.url, t.home).accessToken()));
    expect(new Set(tokens).size).toBe(1);
    const after = await stored();
    expect(after.refresh_token).not.toBe(before.refresh_token);

    // A command refreshes an expiring session on its own, and the session keeps working.
    await storeAgain({ ...after, access_expires_at: 0 });
    expect((await gatehouse(t, ['agents', 'list'])).code).toBe(0);
    expect((await stored()).refresh_token).not.toBe(after.refresh_token);
    expect((await gatehouse(t, ['agents', 'list'])).code).toBe(0);
  });

  it('forgets a session the daemon has ended and says to sign in again', async () => {
    const session = await stored();
    // Presenting the refresh token twice makes the daemon revoke the whole session.
    await t.request('POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } });
    await t.request('POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } });
    await storeAgain({ ...session, access_expires_at: 0 });
    const run = await gatehouse(t, ['agents', 'list']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^gatehouse: your session has ended \(.*\); run `gatehouse login` again\.\n$/);
    expect(await keytar.getPassword(t.keychainService, sessionAccount(t.url))).toBeNull();
    expect((await gatehouse(t, ['status'])).stdout).toMatch(/^signed in +no \(gatehouse login\)$/m);
  });

  it('logout ends the session on the daemon and removes it from the keychain', async () => {
    // Another admin, without MFA: the admin's next TOTP codes are spent.
    const user = { username: 'operator', password: 'another long passphrase' };
    await t.request('POST', '/admin/users', { token: admin, body: { ...user, role: 'admin' } });
    // --password-stdin: stdin holds the password, so the username must be given.
    const noUser = await gatehouse(t, ['login', '--password-stdin'], { stdin: `${user.password}\n` });
    expect(noUser).toMatchObject({ code: 2, stderr: 'gatehouse: --password-stdin needs --username.\n' });
    const login = await gatehouse(t, ['login', '-u', user.username, '--password-stdin'], {
      stdin: `${user.password}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
    const session = await stored();
    const logout = await gatehouse(t, ['logout']);
    expect(logout).toMatchObject({ code: 0, stderr: 'Signed out.\n' });
    expect(await keytar.getPassword(t.keychainService, sessionAccount(t.url))).toBeNull();
    expect((await t.request('GET', '/v1/whoami', { token: session.access_token })).status).toBe(401);
    expect((await t.request('POST', '/auth/refresh', { body: { refresh_token: session.refresh_token } })).status).toBe(
      401,
    );
    expect(await gatehouse(t, ['agents', 'list'])).toMatchObject({
      code: 1,
      stderr: 'gatehouse: not signed in: run `gatehouse login` first.\n',
    });
  });

  it('takes a personal API token from GATEHOUSE_TOKEN instead of a session', async () => {
    const me = (await t.request('GET', '/v1/whoami', { token: admin })).body.user.id;
    const token = (await t.request('POST', `/admin/users/${me}/tokens`, { token: admin, body: { label: 'ci' } })).body
      .token;
    const run = await gatehouse(t, ['agents', 'list', '--json'], { env: { GATEHOUSE_TOKEN: token } });
    expect(run).toMatchObject({ code: 0, stdout: '[]\n' });
  });
});
