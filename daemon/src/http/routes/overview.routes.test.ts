import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../../testing/sql.js';
import { startWithAdmin, type TestDaemon } from '../../testing/test-daemon.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('overview', () => {
  let t: TestDaemon;
  let admin: string;
  const ids: Record<string, string> = {};
  let projectId: string;
  let otherProjectId: string;
  const now = Date.now();

  /** An audit event at a given age, written as the broker or the gateway would have. */
  const event = (type: string, agent: string | null, ageMs: number, outcome = 'success', project = projectId) =>
    `INSERT INTO audit_events (at, event_type, actor, agent_id, project_id, outcome, metadata, entry_hash)
     VALUES ('${new Date(now - ageMs).toISOString()}', '${type}', 'agent:x', ${agent ? `'${ids[agent]}'` : 'NULL'},
             '${project}', '${outcome}', '{}', 'sha256:seeded');`;

  beforeAll(async () => {
    ({ t, admin } = await startWithAdmin());
    for (const name of ['busy', 'quiet', 'paused', 'gone']) {
      ids[name] = (await t.request('POST', '/admin/agents', { token: admin, body: { name } })).body.id;
    }
    await t.request('POST', '/v1/agents/paused/suspend', { token: admin });
    await t.request('DELETE', '/v1/agents/gone', { token: admin });
    const soon = (await t.request('POST', '/admin/agents/busy/keys', { token: admin, body: { expires_in_days: 3 } }))
      .body;
    await t.request('POST', '/admin/agents/quiet/keys', {
      token: admin,
      body: { expires_in_days: 0, label: 'forever' },
    });
    const used = (await t.request('POST', '/admin/agents/quiet/keys', { token: admin, body: {} })).body;
    ids.soonKey = soon.id;
    projectId = soon.project_id ?? (await t.request('GET', '/admin/projects', { token: admin })).body[0].id;
    otherProjectId = (await t.request('POST', '/admin/projects', { token: admin, body: { name: 'Elsewhere' } })).body
      .id;
    await sql(
      t,
      [
        `UPDATE agent_keys SET last_used_at = '${new Date(now).toISOString()}' WHERE id = '${used.id}';`,
        // Oldest first, as the chain is appended.
        event('connection.called', 'busy', 8 * DAY_MS, 'failure'), // outside the week: not counted
        event('connection.called', 'quiet', 5 * DAY_MS, 'failure'),
        event('mcp.tool_call', 'quiet', 3 * DAY_MS),
        event('mcp.tool_call', 'busy', 3 * HOUR_MS, 'failure'),
        event('connection.called', 'busy', 2 * HOUR_MS + 60_000, 'failure'),
        event('connection.called', 'busy', 2 * HOUR_MS),
        event('connection.called', null, HOUR_MS, 'failure', otherProjectId), // another project's
        event('approval.requested', 'quiet', 30 * 60_000),
      ].join('\n'),
    );
  });
  afterAll(() => t.dispose());

  it("counts the project's agents by status", async () => {
    const overview = await t.request('GET', '/v1/overview', { token: admin });
    expect(overview.status).toBe(200);
    expect(overview.body.agents).toEqual({ total: 4, active: 2, suspended: 1, revoked: 1 });
  });

  it('lists the keys that expire within a week and those never used, with their agents', async () => {
    const { keys } = (await t.request('GET', '/v1/overview', { token: admin })).body;
    expect(keys.expiring_within_days).toBe(7);
    expect(keys.expiring_soon).toMatchObject({ total: 1, items: [{ id: ids.soonKey, agent: 'busy' }] });
    expect(keys.never_used.total).toBe(2);
    expect(keys.never_used.items.map((k: { agent: string }) => k.agent)).toEqual(['busy', 'quiet']);
    expect(keys.never_used.items[1]).toMatchObject({ label: 'forever', expires_at: null });
  });

  it('counts requests, denials, tool calls and approvals over the last day by the hour and the week by the day', async () => {
    const { activity } = (await t.request('GET', '/v1/overview', { token: admin })).body;
    expect(activity.day.totals).toEqual({ requests: 2, denials: 2, tool_calls: 1, approvals: 1 });
    expect(activity.week.totals).toEqual({ requests: 3, denials: 3, tool_calls: 2, approvals: 1 });
    expect(activity.day.buckets).toHaveLength(24);
    expect(activity.week.buckets).toHaveLength(7);
    // Every bucket starts on the hour (the day) and they follow each other.
    const starts = activity.day.buckets.map((b: { start: string }) => Date.parse(b.start));
    expect(
      starts.every((s: number, i: number) => s % HOUR_MS === 0 && (i === 0 || s - starts[i - 1] === HOUR_MS)),
    ).toBe(true);
    expect(Date.parse(activity.week.buckets[6].start) % DAY_MS).toBe(0);
    expect(activity.day.since).toBe(activity.day.buckets[0].start);
    // The two brokered calls two hours ago are in the bucket of that hour.
    const hourOf = (ms: number) => new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
    const twoHoursAgo = activity.day.buckets.find((b: { start: string }) => b.start === hourOf(now - 2 * HOUR_MS));
    expect(twoHoursAgo.requests).toBeGreaterThanOrEqual(1);
    const sum = (window: { buckets: Array<{ requests: number }> }) =>
      window.buckets.reduce((n, b) => n + b.requests, 0);
    expect(sum(activity.day)).toBe(2);
    expect(sum(activity.week)).toBe(3);
  });

  it('names the agents refused most often over the week, most first', async () => {
    const { most_refused } = (await t.request('GET', '/v1/overview', { token: admin })).body;
    expect(most_refused).toEqual([
      { agent_id: ids.busy, agent: 'busy', denials: 2 },
      { agent_id: ids.quiet, agent: 'quiet', denials: 1 },
    ]);
  });

  it("gives one agent's activity in the same buckets", async () => {
    const busy = await t.request('GET', '/v1/agents/busy/activity', { token: admin });
    expect(busy.status).toBe(200);
    expect(busy.body.day.totals).toEqual({ requests: 2, denials: 2, tool_calls: 1, approvals: 0 });
    expect(busy.body.week.totals).toEqual({ requests: 2, denials: 2, tool_calls: 1, approvals: 0 });
    const quiet = (await t.request('GET', `/v1/agents/${ids.quiet}/activity`, { token: admin })).body;
    expect(quiet.week.totals).toEqual({ requests: 1, denials: 1, tool_calls: 1, approvals: 1 });
  });

  it('shows an empty project at zero, with every bucket present', async () => {
    const empty = await t.request('GET', '/v1/overview', { token: admin, headers: { 'x-project-id': otherProjectId } });
    expect(empty.status).toBe(200);
    expect(empty.body.agents.total).toBe(0);
    // The one event of that project is in its own figures, not in the default project's.
    expect(empty.body.activity.day.totals).toEqual({ requests: 1, denials: 1, tool_calls: 0, approvals: 0 });
    expect(empty.body.activity.day.buckets).toHaveLength(24);
    expect(empty.body.most_refused).toEqual([]);
  });

  it('answers 401 without a credential, 404 for an agent of no such name, 403 to a non-member', async () => {
    expect((await t.request('GET', '/v1/overview')).status).toBe(401);
    expect((await t.request('GET', '/v1/agents/busy/activity')).status).toBe(401);
    const missing = await t.request('GET', '/v1/agents/nobody/activity', { token: admin });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    await t.request('POST', '/admin/users', {
      token: admin,
      body: { username: 'outsider', password: 'a long enough password' },
    });
    const outsider = (await t.login('outsider', 'a long enough password')).body.access_token;
    const refused = await t.request('GET', '/v1/overview', { token: outsider });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('filters the audit list by outcome, as the denial figures link to it', async () => {
    const failures = await t.request('GET', '/v1/audit?outcome=failure&limit=100', { token: admin });
    expect(failures.status).toBe(200);
    expect(failures.body.every((e: { outcome: string }) => e.outcome === 'failure')).toBe(true);
    expect(failures.body.length).toBeGreaterThanOrEqual(4);
    expect((await t.request('GET', '/v1/audit?outcome=maybe', { token: admin })).status).toBe(400);
  });
});
