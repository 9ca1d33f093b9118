import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sqlite3 from 'sqlite3';
import { hashEntry } from '../daemon/src/domain/audit/audit-log.js';
import { ADMIN, shot, signIn, startDaemon, type E2eDaemon } from './support/daemon.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

let daemon: E2eDaemon;
let upstream: Server;
let admin: string;
/** What the seeded project holds, as the overview should count it. */
const expected = { day: { requests: 0, denials: 0, tool_calls: 0, approvals: 0 }, week: { requests: 0, denials: 0 } };

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: {
      ...(admin ? { authorization: `Bearer ${admin}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as any };
}

/**
 * A week of history written into the daemon's database as its audit chain holds it: brokered
 * calls, MCP tool calls (no gateway in this build makes them), approval requests and refusals,
 * oldest first as the chain is appended. The last hour then gets real brokered calls.
 */
async function seedHistory(agents: Record<string, string>, projectId: string): Promise<void> {
  const now = Date.now();
  const rows: Array<[number, string, string, 'success' | 'failure']> = [];
  for (let day = 5; day >= 1; day--) {
    for (let i = 0; i < 6 + day * 3; i++)
      rows.push([day * DAY_MS + i * 60_000, 'connection.called', 'researcher', 'success']);
    for (let i = 0; i < 4 + day; i++)
      rows.push([day * DAY_MS + HOUR_MS + i * 60_000, 'mcp.tool_call', 'writer', 'success']);
    rows.push([day * DAY_MS + 2 * HOUR_MS, 'connection.called', 'critic', 'failure']);
  }
  for (let hour = 22; hour >= 2; hour--) {
    const calls = 2 + ((hour * 7) % 9);
    for (let i = 0; i < calls; i++)
      rows.push([hour * HOUR_MS + i * 30_000, 'connection.called', 'researcher', 'success']);
    for (let i = 0; i < hour % 4; i++)
      rows.push([hour * HOUR_MS + 20 * 60_000 + i, 'mcp.tool_call', 'writer', 'success']);
    if (hour % 5 === 0) rows.push([hour * HOUR_MS + 40 * 60_000, 'mcp.tool_call', 'critic', 'failure']);
    if (hour % 6 === 0) rows.push([hour * HOUR_MS + 45 * 60_000, 'approval.requested', 'writer', 'success']);
  }
  rows.sort(([a], [b]) => b - a); // oldest first, as the chain is appended
  for (const [age, type, , outcome] of rows) {
    const inDay = age < 23 * HOUR_MS;
    if (inDay) {
      if (type === 'connection.called') expected.day.requests++;
      if (type === 'mcp.tool_call') expected.day.tool_calls++;
      if (type === 'approval.requested') expected.day.approvals++;
      if (outcome === 'failure') expected.day.denials++;
    }
    if (type === 'connection.called') expected.week.requests++;
    if (outcome === 'failure') expected.week.denials++;
  }
  // Linked to the chain's last entry and hashed as the daemon does: the chain still verifies.
  const db = new sqlite3.Database(join(daemon.home, 'gatehouse.db'));
  let last = await new Promise<{ sequence_number: number; entry_hash: string }>((resolve, reject) =>
    db.get(
      'SELECT sequence_number, entry_hash FROM audit_events ORDER BY sequence_number DESC LIMIT 1',
      (e: Error | null, row: { sequence_number: number; entry_hash: string }) => (e ? reject(e) : resolve(row)),
    ),
  );
  const insert = db.prepare(`INSERT INTO audit_events (sequence_number, at, event_type, actor, agent_id, target,
    project_id, source, outcome, metadata, previous_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (const [age, type, agent, outcome] of rows) {
    const row = {
      sequence_number: last.sequence_number + 1,
      at: new Date(now - age).toISOString(),
      event_type: type,
      actor: `agent:${agent}`,
      agent_id: agents[agent]!,
      target: type === 'connection.called' ? 'connection:upstream' : null,
      project_id: projectId,
      source: '127.0.0.1',
      outcome,
      metadata: '{}',
      previous_hash: last.entry_hash,
    };
    const entry_hash = hashEntry(row);
    insert.run(Object.values({ ...row, entry_hash }));
    last = { sequence_number: row.sequence_number, entry_hash };
  }
  await new Promise<void>((resolve, reject) => insert.finalize((e) => (e ? reject(e) : resolve())));
  await new Promise<void>((resolve, reject) => db.close((e) => (e ? reject(e) : resolve())));
}

test.beforeAll(async () => {
  daemon = await startDaemon();
  upstream = createServer((_request, response) => response.end('{"ok":true}'));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

  expect((await api('POST', '/auth/setup', ADMIN)).status).toBe(201);
  admin = (await api('POST', '/auth/login', ADMIN)).body.access_token;
  const connection = await api('POST', '/admin/connections', {
    name: 'upstream',
    base_url: upstreamUrl,
    secret: 'sk-e2e-upstream-secret',
    injection: { kind: 'header', name: 'Authorization', template: 'Bearer {secret}' },
  });
  expect(connection.status).toBe(201);
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};
  for (const [name, tools] of [
    ['researcher', ['connection:upstream']],
    ['writer', []],
    ['critic', []],
    ['archivist', []],
  ] as const) {
    const created = await api('POST', '/admin/agents', { name, allowed_tools: tools, issue_key: true });
    expect(created.status).toBe(201);
    keys[name] = created.body.agent_key.api_key;
    ids[name] = created.body.id;
  }
  await api('POST', '/admin/agents/writer/keys', { label: 'laptop', expires_in_days: 3 });
  await api('POST', '/v1/agents/archivist/suspend');
  const projectId = (await api('GET', '/admin/projects')).body[0].id;
  await seedHistory(ids, projectId);

  // This hour, for real: the broker's calls and its refusals.
  for (let i = 0; i < 9; i++) {
    const call = await fetch(`${daemon.url}/proxy/upstream/v1/ping`, {
      headers: { authorization: `Bearer ${keys.researcher}` },
    });
    expect(call.status).toBe(200);
  }
  for (let i = 0; i < 4; i++) {
    const refused = await fetch(`${daemon.url}/proxy/upstream/v1/ping`, {
      headers: { authorization: `Bearer ${keys.critic}` },
    });
    expect(refused.status).toBe(403);
  }
  expected.day.requests += 13;
  expected.week.requests += 13;
  expected.day.denials += 4;
  expected.week.denials += 4;
  // Brokered calls reach the chain in batches.
  await expect
    .poll(async () => (await api('GET', '/v1/overview')).body.activity.day.totals.requests)
    .toBe(expected.day.requests);
});

test.afterAll(async () => {
  upstream?.close();
  await daemon?.stop();
});

test('the overview shows the seeded project at a glance, each figure a link, in light and dark', async ({ page }) => {
  await signIn(page, `${daemon.url}/`);
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  // The pointer stays where Sign in was clicked, over the chart: its tooltip would cover the bars.
  await page.mouse.move(0, 0);
  await page.getByLabel('Theme').selectOption('light');

  await expect(page.getByRole('link', { name: 'Active agents: 3' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Suspended agents: 1' })).toBeVisible();
  const day = expected.day;
  await expect(page.getByRole('link', { name: `Requests, last 24 hours: ${day.requests}` })).toBeVisible();
  await expect(page.getByRole('link', { name: `Denials, last 24 hours: ${day.denials}` })).toBeVisible();
  await expect(page.getByRole('link', { name: `Tool calls, last 24 hours: ${day.tool_calls}` })).toBeVisible();
  await expect(page.getByRole('link', { name: `Approvals asked, last 24 hours: ${day.approvals}` })).toBeVisible();
  await expect(page.getByRole('link', { name: /^critic: \d+ denials$/ })).toBeVisible();
  const expiring = page.locator('.panel', { has: page.getByRole('heading', { name: /Keys expiring within 7 days/ }) });
  await expect(expiring.getByRole('link', { name: 'writer' })).toBeVisible();
  // The chart drew a bar for the hours that had calls.
  await expect(page.locator('.chart .recharts-bar-rectangle').first()).toBeVisible();
  await shot(page, 'overview-light');

  await page.getByLabel('Theme').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await shot(page, 'overview-dark');

  // Keyboard only: the period tabs move with the arrow keys, and a figure opens its list.
  await page.getByRole('tab', { name: 'Last 24 hours' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Last 7 days' })).toHaveAttribute('aria-selected', 'true');
  await expect(page).toHaveURL(/period=week/);
  const weekRequests = page.getByRole('link', { name: `Requests, last 7 days: ${expected.week.requests}` });
  await expect(weekRequests).toBeVisible();
  await shot(page, 'overview-week-dark');
  await page.getByRole('link', { name: `Denials, last 7 days: ${expected.week.denials}` }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
  // The history was appended as the daemon appends: the chain holds.
  await expect(page.getByText(/Chain verified/)).toBeVisible();
  await expect(page.getByLabel('Outcome')).toHaveValue('failure');
  await expect(page.locator('table[aria-label="Audit events"] tbody tr')).toHaveCount(expected.week.denials);
  await shot(page, 'overview-denials-listed-dark');
});

test("an agent's Activity tab charts that agent alone", async ({ page }) => {
  await signIn(page, `${daemon.url}/#/agents/researcher?tab=Activity`);
  await page.mouse.move(0, 0);
  await page.getByLabel('Theme').selectOption('light');
  const researcherDay = expected.day.requests - 4; // the critic's refused calls are not the researcher's
  await expect(page.getByRole('link', { name: `Requests, last 24 hours: ${researcherDay}` })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Denials, last 24 hours: 0' })).toBeVisible();
  await expect(page.locator('.chart .recharts-bar-rectangle').first()).toBeVisible();
  await shot(page, 'agent-activity-light');
  await page.getByLabel('Theme').selectOption('dark');
  await shot(page, 'agent-activity-dark');
  await page.getByRole('link', { name: `Requests, last 24 hours: ${researcherDay}` }).click();
  await expect(page).toHaveURL(/#\/audit\?.*agent=researcher/);
  await expect(page.getByLabel('Event type')).toHaveValue('connection.called');
});
