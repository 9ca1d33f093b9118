import { readFileSync } from 'node:fs';
import keytar from 'keytar';
import { afterAll, describe, expect, it } from 'vitest';
import { currentTotpCode } from './domain/auth/totp.js';
import { currentLogFile } from './home.js';
import { filesHoldingData, isDatabaseFile, readFiles } from './testing/database-files.js';
import { ADMIN, startTestDaemon, type TestDaemon } from './testing/test-daemon.js';

/**
 * SPEC §3: no plaintext secret reaches the database, a log line or an audit event. This test
 * handles every kind of secret the daemon knows (passwords, access and refresh tokens, personal
 * tokens, a TOTP secret, the signing key) through the real API, then searches every file the
 * daemon wrote for each of them.
 */
describe('no plaintext secret at rest', () => {
  let t: TestDaemon;
  const plaintexts = new Map<string, string>();
  afterAll(() => t?.dispose());

  it('keeps passwords, tokens and TOTP secrets out of the database files and the logs', async () => {
    t = await startTestDaemon({ config: { logLevel: 'trace' } });
    const first = await t.setupAdmin();
    plaintexts.set('admin password', ADMIN.password);
    plaintexts.set('access token', first.access_token);
    plaintexts.set('refresh token', first.refresh_token);

    const refreshed = await t.request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(refreshed.status).toBe(200);
    plaintexts.set('rotated refresh token', refreshed.body.refresh_token);
    const token = refreshed.body.access_token as string;

    const wrongPassword = 'a wrong password that must not be logged';
    expect((await t.login(ADMIN.username, wrongPassword)).status).toBe(401);
    plaintexts.set('wrong password', wrongPassword);

    const userPassword = 'second user password 12345';
    const user = await t.request('POST', '/admin/users', {
      token,
      body: { username: 'ops', password: userPassword, role: 'admin' },
    });
    expect(user.status).toBe(201);
    plaintexts.set('user password', userPassword);

    const resetPassword = 'reset by the admin 67890';
    expect(
      (await t.request('PATCH', `/admin/users/${user.body.id}`, { token, body: { password: resetPassword } })).status,
    ).toBe(200);
    plaintexts.set('reset password', resetPassword);

    const pat = await t.request('POST', `/admin/users/${user.body.id}/tokens`, { token, body: { label: 'ci' } });
    expect(pat.status).toBe(201);
    plaintexts.set('personal token', pat.body.token);
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': pat.body.token } })).status).toBe(200);

    const mfa = await t.request('POST', '/auth/mfa/setup', { token });
    expect(mfa.status).toBe(200);
    plaintexts.set('TOTP secret', mfa.body.secret);
    expect(
      (await t.request('POST', '/auth/mfa/verify', { token, body: { code: currentTotpCode(mfa.body.secret) } })).status,
    ).toBe(200);
    const mfaLogin = await t.login(
      ADMIN.username,
      ADMIN.password,
      currentTotpCode(mfa.body.secret, Date.now() + 30_000),
    );
    expect(mfaLogin.status).toBe(200);
    plaintexts.set('MFA session access token', mfaLogin.body.access_token);
    plaintexts.set('MFA session refresh token', mfaLogin.body.refresh_token);

    const newPassword = 'changed by the user 24680';
    expect(
      (
        await t.request('POST', '/auth/password', {
          token,
          body: { current_password: ADMIN.password, new_password: newPassword },
        })
      ).status,
    ).toBe(204);
    plaintexts.set('changed password', newPassword);

    // Agents: keys (issued, rotated, refused), identity private keys, agent tokens, OTAS's answer.
    const agent = await t.request('POST', '/admin/agents', { token, body: { name: 'courier', issue_key: true } });
    expect(agent.status).toBe(201);
    plaintexts.set('agent key', agent.body.agent_key.api_key);
    const identity = await keytar.getPassword(t.keychainService, `agent-identity:${agent.body.id}`);
    plaintexts.set('agent private key', identity!.split('\n')[1]!);
    const rotated = await t.request('POST', `/admin/agents/courier/keys/${agent.body.agent_key.id}/rotate`, {
      token,
      body: { grace_seconds: 60 },
    });
    plaintexts.set('rotated agent key', rotated.body.api_key);
    const agentTokens = await t.request('POST', '/v1/auth/token', {
      body: { agent_id: agent.body.id, secret: rotated.body.api_key },
    });
    expect(agentTokens.status).toBe(200);
    plaintexts.set('agent access token', agentTokens.body.access_token);
    plaintexts.set('agent refresh token', agentTokens.body.refresh_token);
    const wrongKey = agent.body.agent_key.api_key.replace(/.{6}$/, 'AAAAAA');
    expect((await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': wrongKey } })).status).toBe(401);
    plaintexts.set('mistyped agent key', wrongKey);
    const otas = await t.request('POST', '/api/agent/v1/create/', {
      headers: { 'x-otas-user-token': token, 'x-otas-project-id': 'default' },
      body: { agent_name: 'otas-agent', agent_provider: 'Anthropic' },
    });
    expect(otas.status).toBe(201);
    plaintexts.set('OTAS agent key', otas.body.response.agent_key.api_key);

    await t.request('POST', '/admin/workflows', { token, body: { name: 'pipeline' } });
    await t.request('POST', '/admin/workflows/pipeline/graph/nodes', {
      token,
      body: { node_type: 'agent', agent_id: 'courier' },
    });
    const agentUser = await t.request('POST', '/v1/workflows/pipeline/nodes/n1/agent-user', { token, body: {} });
    expect(agentUser.status).toBe(201);
    plaintexts.set('agent user key', agentUser.body.api_key);
    const users = await t.request('GET', '/admin/users?q=agent_pipeline_n1', { token });
    plaintexts.set(
      'agent user TOTP secret',
      (await keytar.getPassword(t.keychainService, `totp:${users.body[0].id}`))!,
    );

    const signingKey = await keytar.getPassword(t.keychainService, 'daemon-signing-key');
    expect(signingKey).toContain('PRIVATE KEY');
    plaintexts.set('signing key', signingKey!.split('\n')[1]!);

    // Credentials put in query strings, where clients sometimes put them, under any name.
    const inQuery = [
      `/v1/events?access_token=${token}`,
      `/v1/whoami?token=${rotated.body.api_key}`,
      `/healthz?key=${pat.body.token}`,
      `/v1/audit?limit=1&q=${encodeURIComponent(agentTokens.body.access_token)}`,
      `/v1/whoami?anything=${agentUser.body.api_key}&refresh=${refreshed.body.refresh_token}`,
    ];
    for (const target of inQuery) {
      const answer = await fetch(t.url + target, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      await answer?.body?.cancel();
    }

    await t.stop();
    // The query-string requests were logged (so their absence cannot pass this test).
    expect(readFileSync(currentLogFile(t.home), 'utf8')).toContain('"url":"/healthz?key=[redacted]"');
    // The home (logs, daemon.json, the SQLite database) and the database's files wherever they are.
    const files = await filesHoldingData(t);
    expect(files.map((f) => f.slice(t.home.length))).toContain('/logs/gatehoused.1.log');
    expect(files.some(isDatabaseFile)).toBe(true);
    // The log really recorded the traffic (so an empty log cannot pass this test).
    expect(readFileSync(currentLogFile(t.home), 'utf8')).toContain('/auth/login');

    for (const [file, bytes] of readFiles(files)) {
      const content = bytes.toString('latin1');
      for (const [what, secret] of plaintexts) {
        expect(content.includes(secret), `${what} found in ${file}`).toBe(false);
      }
    }
  });
});
