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

  it("counts an admin's refusals across the project and the daemon's own events", async () => {
    // More refusals than the page holds, so the total is counted rather than read off the page
    // (SQLite 3.52 failed that count with "internal query planner error": a 500 before).
    for (let i = 0; i < 3; i++) await t.login('admin', `wrong password ${i}`);
    const refused = await t.request('GET', '/v1/audit?outcome=failure&limit=2', { token: root });
    expect(refused.status).toBe(200);
    expect(refused.body).toHaveLength(2);
    expect(refused.headers.get('x-total-count')).toBe('4');
  });

  it('pages by cursor, newest first: a page holds still while new events arrive before it', async () => {
    const createUser = (username: string) =>
      t.request('POST', '/admin/users', { token: root, body: { username, password: 'a long enough password' } });
    for (let i = 0; i < 5; i++) await createUser(`pager-${i}`);
    const list = (query: string) =>
      t.request('GET', `/v1/audit?event_type=user.created&limit=2&${query}`, { token: root });
    const targets = (page: { body: Array<{ target: string }> }) => page.body.map((event) => event.target);
    const first = await list('');
    expect(targets(first)).toEqual(['user:pager-4', 'user:pager-3']);
    const cursor = first.headers.get('x-next-cursor')!;
    expect(first.headers.get('link')).toContain(`cursor=${cursor}>; rel="next"`);

    // A new event comes first: the offset's second page repeats pager-3, the cursor's does not.
    await createUser('pager-5');
    expect(targets(await list('offset=2'))).toEqual(['user:pager-3', 'user:pager-2']);
    const second = await list(`cursor=${cursor}`);
    expect(targets(second)).toEqual(['user:pager-2', 'user:pager-1']);
    expect(second.headers.get('x-total-count')).toBe('8'); // the admin, amy and the six pagers
    const third = await list(`cursor=${second.headers.get('x-next-cursor')}`);
    expect(targets(third)).toEqual(['user:pager-0', 'user:amy']);
    const last = await list(`cursor=${third.headers.get('x-next-cursor')}`);
    expect(targets(last)).toEqual(['user:admin']);
    expect(last.headers.get('x-next-cursor')).toBeNull();

    // A cursor of another list, or one with an offset, is refused.
    const agents = Buffer.from(JSON.stringify({ v: 1, after: 'agt_01' })).toString('base64url');
    for (const query of [`cursor=${agents}`, `cursor=${cursor}&offset=2`]) {
      const refused = await list(query);
      expect(refused.status, query).toBe(400);
      expect(refused.body.code, query).toBe('invalid_cursor');
    }
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
