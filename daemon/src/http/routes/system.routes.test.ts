import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '@gatehouse/shared';
import { MemorySecretStore, type SecretStore } from '../../secrets/secret-store.js';
import { startTestDaemon, startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

describe('status, health and the API description', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.dispose());

  it('reports health and the daemon status, naming the secret backend in use', async () => {
    expect((await t.request('GET', '/healthz')).body).toEqual({ ok: true });
    const status = await t.request('GET', '/v1/status');
    expect(status.body).toMatchObject({
      url: t.url,
      data_dir: t.home,
      db: { ok: true, migrations: expect.any(Number) },
      keychain: {
        backend: 'keychain',
        description: expect.stringContaining(t.keychainService),
        health: 'ok',
        detail: null,
      },
    });
    expect(status.body.db.migrations).toBeGreaterThanOrEqual(2);
  });

  it('gives every answer a request id of its own, which its problem and its line in the log carry', async () => {
    const answers = [await t.request('GET', '/healthz'), await t.request('GET', '/v1/nothing-here')];
    const ids = answers.map((answer) => answer.headers.get('x-request-id'));
    expect(new Set(ids).size).toBe(2);
    expect(answers[1]!.body.request_id).toBe(ids[1]);
    for (const id of ids) await expect.poll(() => readFileSync(t.daemon.logFile, 'utf8')).toContain(`"reqId":"${id}"`);
  });

  it('publishes every contract route in /openapi.json with its operationId, and serves /docs', async () => {
    const spec = (await t.request('GET', '/openapi.json')).body;
    expect(spec.openapi).toBe('3.1.0');
    for (const [name, route] of Object.entries(routes)) {
      const operation = spec.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toBeDefined();
      expect(operation.operationId).toBe(name);
    }
    const docs = await t.request('GET', '/docs/');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/text\/html/);
  });
});

describe('problems (RFC 7807)', () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon();
  });
  afterAll(() => t.dispose());

  const expectProblem = (response: { status: number; headers: Headers; body: any }, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String) });
    expect(response.body.request_id).toEqual(expect.any(String));
  };

  it('answers 404 not_found for an unknown route', async () => {
    expectProblem(await t.request('GET', '/v1/nothing-here'), 404, 'not_found');
  });

  it('answers 400 for a body that is not JSON, 415 for one that is not declared JSON', async () => {
    expectProblem(
      await t.request('POST', '/auth/login', { raw: '{"username": ', headers: { 'content-type': 'application/json' } }),
      400,
      'bad_request',
    );
    expectProblem(
      await t.request('POST', '/auth/login', { raw: 'username=admin', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
  });

  it('answers 413 for a body over 1 MiB', async () => {
    const big = JSON.stringify({ username: 'admin', password: 'x'.repeat(1024 * 1024) });
    expectProblem(
      await t.request('POST', '/auth/login', { raw: big, headers: { 'content-type': 'application/json' } }),
      413,
      'payload_too_large',
    );
  });

  it('answers 401 with WWW-Authenticate when a credential is missing or wrong', async () => {
    const missing = await t.request('GET', '/v1/whoami');
    expectProblem(missing, 401, 'unauthorized');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expectProblem(await t.request('GET', '/v1/whoami', { token: 'not-a-token' }), 401, 'unauthorized');
  });
});

describe('when the secret store fails', () => {
  /** A store that fails the way `failWith` says, for the next operation only. */
  class FlakyStore extends MemorySecretStore implements SecretStore {
    failWith: Error | null = null;
    override async set(account: string, secret: string) {
      const error = this.failWith;
      this.failWith = null;
      if (error) throw error;
      return super.set(account, secret);
    }
  }
  const store = new FlakyStore();
  let t: TestDaemon;
  let token: string;
  beforeAll(async () => ({ t, admin: token } = await startWithAdmin({ secrets: store })));
  afterAll(() => t.dispose());

  it('answers 503 keychain_unavailable when the keychain cannot be reached', async () => {
    store.failing = true;
    try {
      const refused = await t.request('POST', '/auth/mfa/setup', { token });
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('keychain_unavailable');
    } finally {
      store.failing = false;
    }
  });

  it('answers 500 naming only the request id when something unexpected breaks', async () => {
    store.failWith = new Error('EACCES: /var/lib/secret-internals/keyring.db');
    const failed = await t.request('POST', '/auth/mfa/setup', { token });
    expect(failed.status).toBe(500);
    expect(failed.body.code).toBe('internal');
    expect(JSON.stringify(failed.body)).not.toMatch(/EACCES|secret-internals/);
    expect(failed.body.detail).toContain(failed.body.request_id);
  });
});
