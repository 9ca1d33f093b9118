// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Activity, ActivityWindow, Overview } from '@gatehouse/shared';
import { fakeBridge, renderConsole } from '../../testing/console.js';
import { localMinute } from './ActivityPanel.js';

afterEach(cleanup);

const HOUR_MS = 3_600_000;
const windowOf = (since: string, count: number, stepMs: number, totals: ActivityWindow['totals']): ActivityWindow => ({
  since,
  totals,
  buckets: Array.from({ length: count }, (_, i) => ({
    start: new Date(Date.parse(since) + i * stepMs).toISOString(),
    ...(i === count - 1 ? totals : { requests: 0, denials: 0, tool_calls: 0, approvals: 0 }),
  })),
});

const activity: Activity = {
  day: windowOf('2026-12-04T07:00:00.000Z', 24, HOUR_MS, { requests: 42, denials: 7, tool_calls: 12, approvals: 3 }),
  week: windowOf('2026-11-29T00:00:00.000Z', 7, 24 * HOUR_MS, {
    requests: 420,
    denials: 70,
    tool_calls: 120,
    approvals: 30,
  }),
};

const key = (id: string, agent: string, extra: Partial<Overview['keys']['never_used']['items'][number]> = {}) => ({
  id,
  agent,
  label: null,
  last_four: id.slice(-4).padStart(4, '0'),
  created_at: '2026-11-01T00:00:00.000Z',
  expires_at: null,
  ...extra,
});

const overview: Overview = {
  generated_at: '2026-12-05T06:30:00.000Z',
  agents: { total: 6, active: 3, suspended: 2, revoked: 1 },
  keys: {
    expiring_within_days: 7,
    expiring_soon: { total: 1, items: [key('k-9001', 'researcher', { expires_at: '2026-12-08T00:00:00.000Z' })] },
    never_used: { total: 7, items: [key('k-1', 'writer', { label: 'laptop' }), key('k-2', 'critic')] },
  },
  activity,
  most_refused: [
    { agent_id: 'a1', agent: 'writer', denials: 5 },
    { agent_id: 'a2', agent: 'critic', denials: 2 },
  ],
};

const hrefOf = (name: string | RegExp) => screen.getByRole('link', { name }).getAttribute('href')!;
const searchOf = (href: string) => Object.fromEntries(new URLSearchParams(href.slice(href.indexOf('?') + 1)));

describe('Overview', () => {
  it('opens the console on the overview, with the project in the URL', async () => {
    const bridge = fakeBridge({ getOverview: () => ({ ok: true, data: overview }) });
    const { router } = renderConsole('/', bridge);
    expect(await screen.findByRole('heading', { name: 'Overview' })).toBeTruthy();
    await waitFor(() => expect(router.state.location.pathname).toBe('/overview'));
    expect(bridge.api).toHaveBeenCalledWith('getOverview', { projectId: 'p-default' });
  });

  it('links each agent figure to the agents list filtered by it', async () => {
    renderConsole('/overview', fakeBridge({ getOverview: () => ({ ok: true, data: overview }) }));
    await screen.findByRole('heading', { name: 'Overview' });
    expect(screen.getByRole('link', { name: 'Active agents: 3' }).textContent).toBe('3');
    expect(searchOf(hrefOf('Active agents: 3'))).toMatchObject({ status: 'active', project: 'default' });
    expect(searchOf(hrefOf('Suspended agents: 2'))).toMatchObject({ status: 'suspended' });
    expect(hrefOf('All agents: 6')).toMatch(/^\/agents(\?|$)/);
  });

  it("links each activity figure to exactly the audit events it counts, from the window's start", async () => {
    renderConsole('/overview', fakeBridge({ getOverview: () => ({ ok: true, data: overview }) }));
    await screen.findByRole('heading', { name: 'Overview' });
    const after = localMinute(activity.day.since);
    const requests = hrefOf('Requests, last 24 hours: 42');
    expect(requests.startsWith('/audit?')).toBe(true);
    expect(searchOf(requests)).toMatchObject({ event_type: 'connection.called', after });
    expect(searchOf(hrefOf('Denials, last 24 hours: 7'))).toMatchObject({ outcome: 'failure', after });
    expect(searchOf(hrefOf('Tool calls, last 24 hours: 12'))).toMatchObject({ event_type: 'mcp.tool_call' });
    expect(searchOf(hrefOf('Approvals asked, last 24 hours: 3'))).toMatchObject({ event_type: 'approval.requested' });
  });

  it('shows the week when its tab is chosen, and keeps the choice in the URL', async () => {
    const { router } = renderConsole('/overview', fakeBridge({ getOverview: () => ({ ok: true, data: overview }) }));
    fireEvent.mouseDown(await screen.findByRole('tab', { name: 'Last 7 days' }));
    await waitFor(() => expect(router.state.location.search).toMatchObject({ period: 'week' }));
    const requests = await screen.findByRole('link', { name: 'Requests, last 7 days: 420' });
    expect(searchOf(requests.getAttribute('href')!)).toMatchObject({ after: localMinute(activity.week.since) });
  });

  it('lists the keys that need attention and the agents refused most, each a link', async () => {
    renderConsole('/overview', fakeBridge({ getOverview: () => ({ ok: true, data: overview }) }));
    const neverUsed = (await screen.findByRole('heading', { name: /Keys never used/ })).parentElement!;
    expect(within(neverUsed).getByRole('heading').textContent).toContain('7');
    expect(within(neverUsed).getByText('and 5 more')).toBeTruthy();
    expect(within(neverUsed).getByRole('link', { name: 'writer' }).getAttribute('href')).toMatch(
      /^\/agents\/writer\?.*tab=Keys/,
    );
    expect(searchOf(hrefOf('writer: 5 denials'))).toMatchObject({
      agent: 'writer',
      outcome: 'failure',
      after: localMinute(activity.week.since),
    });
    expect(screen.getByRole('heading', { name: /Keys expiring within 7 days/ }).textContent).toContain('1');
  });

  it('follows a figure to the audit list it names', async () => {
    const bridge = fakeBridge({
      getOverview: () => ({ ok: true, data: overview }),
      listAudit: () => ({ ok: true, data: [], total: 0 }),
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      verifyAudit: () => ({
        ok: true,
        data: { is_valid: true, entries_checked: 1, first_sequence: 1, last_sequence: 1, verified_at: 'x' },
      }),
    });
    const { router } = renderConsole('/overview', bridge);
    fireEvent.click(await screen.findByRole('link', { name: 'Denials, last 24 hours: 7' }));
    await waitFor(() => expect(router.state.location.pathname).toBe('/audit'));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('listAudit', {
        projectId: 'p-default',
        query: { limit: 50, outcome: 'failure', after: new Date(localMinute(activity.day.since)).toISOString() },
      }),
    );
    expect((screen.getByLabelText('Outcome') as HTMLSelectElement).value).toBe('failure');
  });

  it('says what went wrong when the daemon refuses', async () => {
    renderConsole(
      '/overview',
      fakeBridge({
        getOverview: () => ({
          ok: false,
          problem: { type: 'x', title: 'Forbidden', status: 403, code: 'forbidden', detail: 'Not a member.' },
        }),
      }),
    );
    expect(await screen.findByText(/Not a member/)).toBeTruthy();
  });
});
