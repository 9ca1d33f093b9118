import keytar from 'keytar';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentTotpCode } from '../../domain/auth/totp.js';
import { ADMIN, startTestDaemon, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';
import { dropTrigger, refuseUpdates, sql } from '../../testing/sql.js';

const STEP_MS = 30_000;

describe('first-run setup', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.dispose());

  it('validates the body field by field', async () => {
    const short = await t.request('POST', '/auth/setup', { body: { username: 'admin', password: 'short' } });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('validation_failed');
    expect(short.body.errors).toContainEqual(expect.objectContaining({ location: 'body.password' }));

    const unknown = await t.request('POST', '/auth/setup', { body: { ...ADMIN, role: 'super_admin' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ location: 'body.role', message: 'is not a known field' }]);
  });

  it('works once, even when many setups race, and then answers 403 setup_already_done', async () => {
    expect((await t.request('GET', '/auth/setup')).body).toEqual({ needs_setup: true });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request('POST', '/auth/setup', { body: { username: `admin${i}`, password: ADMIN.password } }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 403)).toHaveLength(19);
    expect(results.find((r) => r.status === 403)!.body.code).toBe('setup_already_done');

    const created = results.find((r) => r.status === 201)!.body;
    expect(created.user).toMatchObject({ role: 'super_admin', kind: 'human', tool_ceiling: '*', mfa_enabled: false });
    expect(created.project).toMatchObject({ slug: 'default', name: 'Default' });
    expect(created.user).not.toHaveProperty('password_hash');
    expect((await t.request('GET', '/auth/setup')).body).toEqual({ needs_setup: false });
  });
});

describe('login, refresh and logout', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
    await t.request('POST', '/auth/setup', { body: { ...ADMIN, email: 'admin@example.com' } });
  });
  afterAll(() => t.dispose());

  it('signs in by username or email with a 15-minute Bearer token', async () => {
    const byName = await t.login(ADMIN.username, ADMIN.password);
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(byName.body.refresh_token).toMatch(/^ghr_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
    expect((await t.login('ADMIN@example.com', ADMIN.password)).status).toBe(200);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const wrong = await t.login(ADMIN.username, 'not the password');
    const unknown = await t.login('nobody', 'not the password');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.code).toBe('unauthorized');
    expect(unknown.body.detail).toBe(wrong.body.detail);
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('access tokens verify against /.well-known/jwks.json with a standard JWT library', async () => {
    const { body } = await t.login(ADMIN.username, ADMIN.password);
    const jwks = (await t.request('GET', '/.well-known/jwks.json')).body;
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    const { payload, protectedHeader } = await jwtVerify(body.access_token, createLocalJWKSet(jwks), {
      issuer: 'gatehouse',
    });
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({ typ: 'user' });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('rotates refresh tokens; a rotated one is refused', async () => {
    const first = (await t.login(ADMIN.username, ADMIN.password)).body;
    const second = await t.request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await t.request('GET', '/v1/whoami', { token: second.body.access_token })).status).toBe(200);
  });

  it('revokes the whole chain when a rotated refresh token is reused', async () => {
    const first = (await t.login(ADMIN.username, ADMIN.password)).body;
    const second = (await t.request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } })).body;

    const reuse = await t.request('POST', '/auth/refresh', { body: { refresh_token: first.refresh_token } });
    expect(reuse.status).toBe(401);
    expect((await t.request('POST', '/auth/refresh', { body: { refresh_token: second.refresh_token } })).status).toBe(
      401,
    );
    expect((await t.request('GET', '/v1/whoami', { token: second.access_token })).status).toBe(401);

    const observer = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;
    const audit = await t.request('GET', '/v1/audit?event_type=auth.refresh_reused', { token: observer });
    expect(audit.body).toHaveLength(1);
    expect(audit.body[0]).toMatchObject({ outcome: 'failure', actor: 'user:admin' });
  });

  it('refuses garbage and mistyped refresh tokens', async () => {
    const { refresh_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    const typo = refresh_token.slice(0, -1) + (refresh_token.endsWith('a') ? 'b' : 'a');
    for (const token of ['garbage', typo, `ghr_AAAAAAAA_${'A'.repeat(38)}`]) {
      expect((await t.request('POST', '/auth/refresh', { body: { refresh_token: token } })).status).toBe(401);
    }
  });

  it('logout ends the session: its access and refresh tokens are refused', async () => {
    const { access_token, refresh_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    expect((await t.request('POST', '/auth/logout', { token: access_token })).status).toBe(204);
    expect((await t.request('GET', '/v1/whoami', { token: access_token })).status).toBe(401);
    expect((await t.request('POST', '/auth/refresh', { body: { refresh_token } })).status).toBe(401);
  });

  it('refuses missing, garbage and tampered bearer tokens', async () => {
    const missing = await t.request('GET', '/v1/whoami');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await t.request('GET', '/v1/whoami', { token: 'garbage' })).status).toBe(401);

    const { access_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    const [header, payload, signature] = access_token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'someone-else' }),
    ).toString('base64url');
    expect((await t.request('GET', '/v1/whoami', { token: `${header}.${forgedPayload}.${signature}` })).status).toBe(
      401,
    );
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    expect((await t.request('GET', '/v1/whoami', { token: `${header}.${payload}.${flipped}` })).status).toBe(401);
  });

  it('accepts X-OTAS-USER-TOKEN as the access token, and X-Project-Id / X-OTAS-PROJECT-ID by id or slug', async () => {
    const { access_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    const me = await t.request('GET', '/v1/whoami', { headers: { 'x-otas-user-token': access_token } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ principal: 'user', via: 'session', user: { username: 'admin' }, privilege: 1 });

    const other = (await t.request('POST', '/admin/projects', { token: access_token, body: { name: 'Research Lab' } }))
      .body;
    const bySlug = await t.request('GET', '/v1/whoami', {
      token: access_token,
      headers: { 'x-project-id': 'research-lab' },
    });
    expect(bySlug.body.project.id).toBe(other.id);
    const byId = await t.request('GET', '/v1/whoami', {
      token: access_token,
      headers: { 'x-otas-project-id': other.id },
    });
    expect(byId.body.project.slug).toBe('research-lab');
    expect(
      (await t.request('GET', '/v1/whoami', { token: access_token, headers: { 'x-project-id': 'nope' } })).status,
    ).toBe(404);
  });

  it('changes the password: wrong current 403; then other sessions end and the current one goes on', async () => {
    const user = { username: 'carol', password: 'carol first password' };
    const admin = (await t.login(ADMIN.username, ADMIN.password)).body.access_token;
    expect((await t.request('POST', '/admin/users', { token: admin, body: user })).status).toBe(201);
    const current = (await t.login(user.username, user.password)).body.access_token;
    const other = (await t.login(user.username, user.password)).body.access_token;

    const wrong = await t.request('POST', '/auth/password', {
      token: current,
      body: { current_password: 'nope', new_password: 'carol second password' },
    });
    expect(wrong.status).toBe(403);
    const changed = await t.request('POST', '/auth/password', {
      token: current,
      body: { current_password: user.password, new_password: 'carol second password' },
    });
    expect(changed.status).toBe(204);

    expect((await t.request('GET', '/v1/whoami', { token: current })).status).toBe(200);
    expect((await t.request('GET', '/v1/whoami', { token: other })).status).toBe(401);
    expect((await t.login(user.username, user.password)).status).toBe(401);
    expect((await t.login(user.username, 'carol second password')).status).toBe(200);
  });

  it('keeps users and sessions across a restart (the signing key comes back from the keychain)', async () => {
    const before = (await t.login(ADMIN.username, ADMIN.password)).body;
    t = await t.restart();
    expect((await t.request('GET', '/v1/whoami', { token: before.access_token })).status).toBe(200);
    const refreshed = await t.request('POST', '/auth/refresh', { body: { refresh_token: before.refresh_token } });
    expect(refreshed.status).toBe(200);
  });
});

describe('login lockout', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
    await t.setupAdmin();
  });
  afterAll(() => t.dispose());

  it('locks the account after 5 wrong passwords: even the right one gets 429 with Retry-After', async () => {
    for (let i = 0; i < 5; i++) expect((await t.login(ADMIN.username, `wrong ${i}`)).status).toBe(401);
    const locked = await t.login(ADMIN.username, ADMIN.password);
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('rate_limited');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
  });

  it('counts wrong passwords sent at once: 4 leave the account open, 5 lock it', async () => {
    const t2 = await startTestDaemon();
    try {
      const admin = (await t2.setupAdmin()).access_token;
      await t2.request('POST', '/admin/users', {
        token: admin,
        body: { username: 'erin', password: 'erin password 1' },
      });
      const wrongAtOnce = (n: number) =>
        Promise.all(Array.from({ length: n }, (_, i) => t2.login('erin', `wrong ${i}`)));

      expect((await wrongAtOnce(4)).map((r) => r.status)).toEqual([401, 401, 401, 401]);
      // The right password resets the count; then five at once reach the threshold exactly.
      expect((await t2.login('erin', 'erin password 1')).status).toBe(200);
      expect((await wrongAtOnce(5)).map((r) => r.status)).toEqual([401, 401, 401, 401, 401]);
      const locked = await t2.login('erin', 'erin password 1');
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    } finally {
      await t2.dispose();
    }
  });

  it('refuses a disabled user even with the right password', async () => {
    const t2 = await startTestDaemon();
    try {
      const admin = (await t2.setupAdmin()).access_token;
      const user = (
        await t2.request('POST', '/admin/users', {
          token: admin,
          body: { username: 'dave', password: 'dave password 1' },
        })
      ).body;
      await t2.request('PATCH', `/admin/users/${user.id}`, { token: admin, body: { disabled: true } });
      expect((await t2.login('dave', 'dave password 1')).status).toBe(401);
    } finally {
      await t2.dispose();
    }
  });
});

describe('MFA (TOTP)', () => {
  let t: TestDaemon;
  let token: string;
  let userId: string;
  let secret: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    token = (await t.setupAdmin()).access_token;
    userId = (await t.request('GET', '/v1/whoami', { token })).body.user.id;
  });
  afterAll(() => t.dispose());

  it('enrols: the secret is shown once as an otpauth URI and kept in the keychain', async () => {
    const setup = await t.request('POST', '/auth/mfa/setup', { token });
    expect(setup.status).toBe(200);
    secret = setup.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Gatehouse:admin\?.*secret=/);
    expect(await keytar.getPassword(t.keychainService, `totp:${userId}`)).toBe(secret);

    expect((await t.request('POST', '/auth/mfa/verify', { token, body: { code: '000000' } })).status).toBe(401);
    const verified = await t.request('POST', '/auth/mfa/verify', { token, body: { code: currentTotpCode(secret) } });
    expect(verified.body).toEqual({ mfa_enabled: true });
    expect((await t.request('POST', '/auth/mfa/setup', { token })).status).toBe(409);
  });

  it('asks for the code at login, accepts a code once, refuses its replay', async () => {
    const noCode = await t.login(ADMIN.username, ADMIN.password);
    expect(noCode.status).toBe(401);
    expect(noCode.body.code).toBe('mfa_required');

    const code = currentTotpCode(secret, Date.now() + STEP_MS);
    expect((await t.login(ADMIN.username, ADMIN.password, code)).status).toBe(200);
    expect((await t.login(ADMIN.username, ADMIN.password, code)).status).toBe(401);
  });

  it('allows 5 tries a minute: the 6th is 429 with Retry-After', async () => {
    const { daemon, secret } = await restartedWithMfa();
    try {
      for (let i = 0; i < 5; i++)
        expect((await daemon.login(ADMIN.username, ADMIN.password, '123456')).status).toBe(401);
      const throttled = await daemon.login(
        ADMIN.username,
        ADMIN.password,
        currentTotpCode(secret, Date.now() + STEP_MS),
      );
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    } finally {
      await daemon.dispose();
    }
  });

  it('disabling needs a valid code and removes the secret from the keychain', async () => {
    const t2 = await startTestDaemon();
    try {
      const admin = (await t2.setupAdmin()).access_token;
      const id = (await t2.request('GET', '/v1/whoami', { token: admin })).body.user.id;
      const s = (await t2.request('POST', '/auth/mfa/setup', { token: admin })).body.secret;
      await t2.request('POST', '/auth/mfa/verify', { token: admin, body: { code: currentTotpCode(s) } });
      expect((await t2.request('POST', '/auth/mfa/disable', { token: admin, body: { code: '000000' } })).status).toBe(
        401,
      );
      const off = await t2.request('POST', '/auth/mfa/disable', {
        token: admin,
        body: { code: currentTotpCode(s, Date.now() + STEP_MS) },
      });
      expect(off.body).toEqual({ mfa_enabled: false });
      expect(await keytar.getPassword(t2.keychainService, `totp:${id}`)).toBeNull();
      expect((await t2.login(ADMIN.username, ADMIN.password)).status).toBe(200);
    } finally {
      await t2.dispose();
    }
  });

  it('locks TOTP for 15 minutes after 10 wrong codes in a row', async () => {
    const { daemon: first, secret } = await restartedWithMfa();
    let daemon = first;
    try {
      // The per-minute throttle allows 5 tries; emptying it leaves the stored failure count.
      for (let i = 0; i < 5; i++)
        expect((await daemon.login(ADMIN.username, ADMIN.password, '111111')).status).toBe(401);
      daemon = await withoutTotpThrottle(daemon);
      for (let i = 0; i < 5; i++)
        expect((await daemon.login(ADMIN.username, ADMIN.password, '111111')).status).toBe(401);
      daemon = await withoutTotpThrottle(daemon);
      const locked = await daemon.login(ADMIN.username, ADMIN.password, currentTotpCode(secret, Date.now() + STEP_MS));
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800);
    } finally {
      await daemon.dispose();
    }
  });
});

/** A daemon whose admin has MFA on, with the per-minute TOTP throttle empty. */
async function restartedWithMfa(): Promise<{ daemon: TestDaemon; secret: string }> {
  const first = await startTestDaemon();
  const admin = (await first.setupAdmin()).access_token;
  const secret: string = (await first.request('POST', '/auth/mfa/setup', { token: admin })).body.secret;
  await first.request('POST', '/auth/mfa/verify', { token: admin, body: { code: currentTotpCode(secret) } });
  return { daemon: await withoutTotpThrottle(first), secret };
}

/**
 * Restarts `daemon` with the per-minute TOTP throttle empty: the restart empties it on SQLite
 * (in memory); on PostgreSQL the replicas share it in the database, where it is deleted.
 */
async function withoutTotpThrottle(daemon: TestDaemon): Promise<TestDaemon> {
  const restarted = await daemon.restart();
  await restarted.daemon.services.db.writeUncached((tx) =>
    tx.query("DELETE FROM attempt_counts WHERE kind = 'totp_tries'"),
  );
  return restarted;
}

describe('personal API tokens', () => {
  let t: TestDaemon;
  let admin: string;
  let adminId: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    admin = (await t.setupAdmin()).access_token;
    adminId = (await t.request('GET', '/v1/whoami', { token: admin })).body.user.id;
  });
  afterAll(() => t.dispose());

  it('are shown once and authenticate as X-API-Key and as Bearer until revoked', async () => {
    const created = await t.request('POST', `/admin/users/${adminId}/tokens`, { token: admin, body: { label: 'ci' } });
    expect(created.status).toBe(201);
    const plaintext: string = created.body.token;
    expect(plaintext).toMatch(/^ghp_[0-9A-Za-z]{8}_[0-9A-Za-z]{38}$/);
    expect(created.body).toMatchObject({ label: 'ci', prefix: plaintext.slice(4, 12), last_four: plaintext.slice(-4) });

    const listed = await t.request('GET', `/admin/users/${adminId}/tokens`, { token: admin });
    expect(listed.body).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(plaintext);

    const viaHeader = await t.request('GET', '/v1/whoami', { headers: { 'x-api-key': plaintext } });
    expect(viaHeader.body).toMatchObject({ principal: 'user', via: 'personal_token' });
    expect((await t.request('GET', '/v1/whoami', { token: plaintext })).status).toBe(200);

    expect(
      (await t.request('DELETE', `/admin/users/${adminId}/tokens/${created.body.id}`, { token: admin })).status,
    ).toBe(204);
    expect((await t.request('GET', '/v1/whoami', { token: plaintext })).status).toBe(401);
  });

  it('show when they were last used, written with the next batch of uses, even if the first write is refused', async () => {
    const created = await t.request('POST', `/admin/users/${adminId}/tokens`, {
      token: admin,
      body: { label: 'used' },
    });
    const lastUsed = async () =>
      (await t.request('GET', `/admin/users/${adminId}/tokens`, { token: admin })).body.find(
        (token: { id: string }) => token.id === created.body.id,
      ).last_used_at;
    await sql(t, refuseUpdates(t, 'personal_tokens'));
    const used = Date.now();
    expect((await t.request('GET', '/v1/whoami', { token: created.body.token })).status).toBe(200);
    await expect(t.daemon.services.usage.flush()).rejects.toThrow();
    expect(await lastUsed()).toBeNull();

    await sql(t, dropTrigger(t, 'refuse_update', 'personal_tokens'));
    await t.daemon.services.usage.flush();
    expect(Date.parse(await lastUsed())).toBeGreaterThanOrEqual(used);
  });

  it("stop working at once when their owner is disabled, though the owner's token was just used", async () => {
    const pat = (
      await t.request('POST', '/admin/users', { token: admin, body: { username: 'pat', password: 'pat password 12' } })
    ).body;
    const plaintext: string = (await t.request('POST', `/admin/users/${pat.id}/tokens`, { token: admin, body: {} }))
      .body.token;
    expect((await t.request('GET', '/v1/whoami', { token: plaintext })).status).toBe(200);
    await t.request('PATCH', `/admin/users/${pat.id}`, { token: admin, body: { disabled: true } });
    expect((await t.request('GET', '/v1/whoami', { token: plaintext })).status).toBe(401);
  });

  it('a viewer manages only their own tokens', async () => {
    const viewer = (
      await t.request('POST', '/admin/users', {
        token: admin,
        body: { username: 'vic', password: 'viewer password 1' },
      })
    ).body;
    const viewerToken = (await t.login('vic', 'viewer password 1')).body.access_token;
    expect((await t.request('POST', `/admin/users/${adminId}/tokens`, { token: viewerToken, body: {} })).status).toBe(
      403,
    );
    expect((await t.request('POST', `/admin/users/${viewer.id}/tokens`, { token: viewerToken, body: {} })).status).toBe(
      201,
    );
  });
});

describe('the token-signing key', () => {
  it('is replaced when the keychain holds another database’s key, so tokens verify again', async () => {
    const { t: first } = await startWithAdmin();
    await first.stop();
    // A second data directory under the same keychain service writes its own signing key there.
    const second = await startTestDaemon({ keychainService: first.keychainService });
    await second.dispose();

    const again = await first.restart();
    try {
      const login = await again.login(ADMIN.username, ADMIN.password);
      expect(login.status).toBe(200);
      expect((await again.request('GET', '/v1/whoami', { token: login.body.access_token })).status).toBe(200);
    } finally {
      await again.dispose();
    }
  });
});

describe('failed refreshes', () => {
  let t: TestDaemon;
  let admin: string;
  beforeAll(async () => ({ t, admin } = await startWithAdmin()));
  afterAll(() => t.dispose());

  const failures = async () =>
    (await t.request('GET', '/v1/audit?event_type=auth.failed', { token: admin })).body as Array<{
      actor: string;
      agent_id: string | null;
      metadata: { reason: string };
    }>;

  it('are audited with their reason, for humans and agents alike', async () => {
    const unknown = `ghr_AAAAAAAA_${'A'.repeat(38)}`;
    expect((await t.request('POST', '/auth/refresh', { body: { refresh_token: unknown } })).status).toBe(401);
    const { access_token, refresh_token } = (await t.login(ADMIN.username, ADMIN.password)).body;
    await t.request('POST', '/auth/logout', { token: access_token });
    expect((await t.request('POST', '/auth/refresh', { body: { refresh_token } })).status).toBe(401);

    const agent = (
      await t.request('POST', '/admin/agents', { token: admin, body: { name: 'refresher', issue_key: true } })
    ).body;
    const tokens = (
      await t.request('POST', '/v1/auth/token', { body: { agent_id: agent.id, secret: agent.agent_key.api_key } })
    ).body;
    await t.request('POST', '/admin/agents/refresher/revoke', { token: admin });
    const refused = await t.request('POST', '/v1/auth/refresh', { body: { refresh_token: tokens.refresh_token } });
    expect(refused.status).toBe(401);

    expect((await failures()).map((event) => [event.actor, event.metadata.reason, event.agent_id])).toEqual([
      ['anonymous', 'agent_suspended', agent.id],
      [`user:${ADMIN.username}`, 'session_revoked', null],
      ['anonymous', 'unknown_refresh_token', null],
    ]);
  });

  it('are limited per source', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) {
      const body = { refresh_token: `ghr_${'A'.repeat(8)}_${String(i).padStart(38, 'A')}` };
      statuses.push((await t.request('POST', i % 2 ? '/auth/refresh' : '/v1/auth/refresh', { body })).status);
    }
    expect(statuses).toContain(429);
  });
});
