import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTrigger, sql } from '../../testing/sql.js';
import { startTestDaemon, type TestDaemon } from '../../testing/test-daemon.js';

describe('audit log', () => {
  let t: TestDaemon;
  let root: string;
  beforeAll(async () => {
    t = await startTestDaemon();
    root = (await t.setupAdmin()).access_token;
    await t.login('admin', 'a wrong password');
    await t.request('POST', '/admin/users', {
      token: root,
      body: { username: 'amy', password: 'a long enough password' },
    });
  });
  afterAll(() => t.dispose());

  it('records who did what, newest first, with a hash chain', async () => {
    const page = await t.request('GET', '/v1/audit', { token: root });
    expect(page.status).toBe(200);
    const types = page.body.map((e: { event_type: string }) => e.event_type);
    expect(types.slice(0, 3)).toEqual(['user.created', 'auth.failed', 'auth.login']);
    const [newest, previous] = page.body;
    expect(newest).toMatchObject({ actor: 'user:admin', target: 'user:amy', outcome: 'success' });
    expect(newest.entry_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(newest.previous_hash).toBe(previous.entry_hash);
    expect(page.body[1]).toMatchObject({ outcome: 'failure', source: '127.0.0.1' });
  });

  it('filters by exact type, by prefix, and by time', async () => {
    const exact = await t.request('GET', '/v1/audit?event_type=auth.failed', { token: root });
    expect(exact.body).toHaveLength(1);
    expect(exact.headers.get('x-total-count')).toBe('1');
    const prefix = await t.request('GET', '/v1/audit?event_type=auth.*', { token: root });
    expect(new Set(prefix.body.map((e: { event_type: string }) => e.event_type))).toEqual(
      new Set(['auth.failed', 'auth.login']),
    );
    const future = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await t.request('GET', `/v1/audit?after=${future}`, { token: root })).body).toEqual([]);
    expect((await t.request('GET', '/v1/audit?after=yesterday', { token: root })).status).toBe(400);
  });

  it('cannot be changed through SQL: the database refuses updates and deletes', async () => {
    await expect(sql(t, "UPDATE audit_events SET actor = 'user:mallory'")).rejects.toThrow(/append-only/);
    await expect(sql(t, 'DELETE FROM audit_events')).rejects.toThrow(/append-only/);
  });

  it('verifies, and reports the first entry that was tampered with', async () => {
    const clean = await t.request('GET', '/v1/audit/verify', { token: root });
    expect(clean.body).toMatchObject({ is_valid: true, first_sequence: 1 });
    expect(clean.body.entries_checked).toBeGreaterThanOrEqual(4);

    // Someone with the file drops the guard and rewrites history.
    await sql(
      t,
      `${dropTrigger(t, 'audit_events_no_update', 'audit_events')};
       UPDATE audit_events SET actor = 'user:mallory' WHERE sequence_number = 2;`,
    );
    const broken = await t.request('GET', '/v1/audit/verify', { token: root });
    expect(broken.body).toMatchObject({ is_valid: false, break_point: 2, entries_checked: 1 });
    expect(broken.body.error).toEqual(expect.any(String));
  });
});
