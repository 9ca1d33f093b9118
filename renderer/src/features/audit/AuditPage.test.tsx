// @vitest-environment jsdom
import { cleanup, fireEvent, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('Audit', () => {
  it('shows a broken chain loudly, with its break point', async () => {
    const bridge = fakeBridge({
      listAudit: () => ({ ok: true, data: [], total: 0 }),
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      verifyAudit: () => ({
        ok: true,
        data: { is_valid: false, entries_checked: 12, break_point: 7, error: 'entry_hash mismatch', verified_at: 'x' },
      }),
    });
    renderConsole('/audit', bridge);
    expect((await screen.findByRole('alert')).textContent).toContain('broken at entry #7');
  });

  it('pages onward by cursor, which holds still while new events arrive, and back by offset', async () => {
    const total = 70;
    // Newest first: sequence numbers 70 down to 1; a cursor names the last one shown.
    const event = (sequence: number) => ({
      sequence_number: sequence,
      event_type: 'agent.created',
      at: '2026-12-06T12:00:00.000Z',
      actor: 'user:admin',
      agent_id: null,
      target: `agent:number-${sequence}`,
      project_id: 'p-default',
      source: null,
      outcome: 'success' as const,
      metadata: {},
      entry_hash: `sha256:${sequence}`,
      previous_hash: null,
    });
    const bridge = fakeBridge({
      listAudit: ({ query }) => {
        const newest = query.cursor ? Number(query.cursor.slice('before-'.length)) - 1 : total - (query.offset ?? 0);
        const count = Math.min(50, newest);
        return {
          ok: true,
          data: Array.from({ length: count }, (_, i) => event(newest - i)),
          total,
          ...(newest - count > 0 ? { next: `before-${newest - count + 1}` } : {}),
        };
      },
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      verifyAudit: () => ({
        ok: true,
        data: { is_valid: true, entries_checked: total, first_sequence: 1, last_sequence: total, verified_at: 'x' },
      }),
    });
    const lastListed = () => bridge.api.mock.calls.filter(([route]) => route === 'listAudit').at(-1)?.[1];
    const { router } = renderConsole('/audit', bridge);
    expect(await screen.findByText('agent:number-70')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('agent:number-20')).toBeTruthy();
    expect(lastListed()).toEqual({ projectId: 'p-default', query: { limit: 50, cursor: 'before-21' } });
    expect(router.state.location.search).toMatchObject({ offset: 50, cursor: 'before-21' });
    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByText('agent:number-70')).toBeTruthy();
    expect(lastListed()).toEqual({ projectId: 'p-default', query: { limit: 50 } });
  });
});
