// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { UsageLimit } from '@gatehouse/shared';
import { agent, fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const key = {
  id: 'k1',
  agent_id: 'id-researcher',
  label: 'ci',
  prefix: 'gh_ab12',
  last_four: 'wxyz',
  scopes: [],
  created_at: '2026-12-05T06:00:00.000Z',
  expires_at: null,
  last_used_at: null,
  revoked_at: null,
  replaced_by: null,
  active: true,
  in_keychain: false,
};

const agentLimit: UsageLimit = {
  id: 'l1',
  agent_id: 'id-researcher',
  key_id: null,
  connection: null,
  windows: [{ name: 'minute', limit: 10, seconds: 60, used: 3, resets_at: '2026-12-05T06:01:00.000Z' }],
  remaining: 97,
  refill: { amount: 100, interval_seconds: 86_400 },
  expires_at: null,
  created_at: '2026-12-05T06:00:00.000Z',
  updated_at: '2026-12-05T06:00:00.000Z',
};

function limitsBridge(initial: UsageLimit[] = [agentLimit]) {
  let limits = [...initial];
  return fakeBridge({
    getAgent: () => ({ ok: true, data: agent('researcher') }),
    listKeys: () => ({ ok: true, data: [key] }),
    listConnections: () => ({ ok: true, data: [{ id: 'c1', name: 'openai' }] }),
    listLimits: () => ({ ok: true, data: [...limits] }),
    setLimit: ({ body }) => {
      const set: UsageLimit = {
        ...agentLimit,
        id: 'l2',
        key_id: body.key_id ?? null,
        connection: body.connection ?? null,
        windows: body.windows.map((w: any) => ({ ...w, used: 0, resets_at: '2026-12-05T07:00:00.000Z' })),
        remaining: body.remaining,
        refill: body.refill,
        expires_at: body.expires_at,
      };
      limits.push(set);
      return { ok: true, data: set };
    },
    deleteLimit: ({ params }) => {
      const gone = limits.find((l) => l.id === params.limit_id)!;
      limits = limits.filter((l) => l !== gone);
      return { ok: true, data: gone };
    },
  });
}

describe('AgentLimits', () => {
  it('shows each limit with its current use', async () => {
    renderConsole('/agents/researcher?tab=Limits', limitsBridge());
    const table = await screen.findByRole('table', { name: 'Usage limits' });
    const row = within(table).getByText('the agent as a whole').closest('tr')!;
    expect(row.textContent).toContain('3 of 10 per 60 s');
    expect((within(row).getByLabelText('minute used') as HTMLMeterElement).value).toBe(3);
    expect(row.textContent).toContain('97');
    expect(row.textContent).toContain('back to 100 every 86400 s');
    expect(row.textContent).toContain('never');
  });

  it("sets a limit on the agent's use of a connection, with two windows and uses left", async () => {
    const bridge = limitsBridge([]);
    renderConsole('/agents/researcher?tab=Limits', bridge);
    expect(await screen.findByText(/No limits/)).toBeTruthy();
    const form = screen.getByRole('form', { name: 'Set a limit' });
    await within(form).findByRole('option', { name: 'its use of openai' });
    fireEvent.change(within(form).getByLabelText('Applies to'), { target: { value: 'connection:openai' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Add window' }));
    const names = within(form).getAllByLabelText('Window name');
    fireEvent.change(names[1]!, { target: { value: 'day' } });
    fireEvent.change(within(form).getAllByLabelText('Requests')[1]!, { target: { value: '1000' } });
    fireEvent.change(within(form).getAllByLabelText('Seconds')[1]!, { target: { value: '86400' } });
    fireEvent.change(within(form).getByLabelText(/Uses left/), { target: { value: '500' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Set limit' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('setLimit', {
        projectId: 'p-default',
        params: { name: 'researcher' },
        body: {
          connection: 'openai',
          windows: [
            { name: 'minute', limit: 60, seconds: 60 },
            { name: 'day', limit: 1000, seconds: 86_400 },
          ],
          remaining: 500,
          refill: null,
          expires_at: null,
        },
      }),
    );
    const table = await screen.findByRole('table', { name: 'Usage limits' });
    expect(within(table).getByText('its use of openai')).toBeTruthy();
  });

  it('refuses a window without a length before asking the daemon', async () => {
    const bridge = limitsBridge([]);
    renderConsole('/agents/researcher?tab=Limits', bridge);
    const form = await screen.findByRole('form', { name: 'Set a limit' });
    fireEvent.change(within(form).getByLabelText('Seconds'), { target: { value: '' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Set limit' }));
    expect(await within(form).findByText(/integer|number/i)).toBeTruthy();
    expect(bridge.api.mock.calls.some(([route]) => route === 'setLimit')).toBe(false);
  });

  it('limits one key, named by its prefix, and removes a limit after a confirm', async () => {
    const bridge = limitsBridge();
    renderConsole('/agents/researcher?tab=Limits', bridge);
    const form = await screen.findByRole('form', { name: 'Set a limit' });
    await within(form).findByRole('option', { name: 'key gh_ab12…wxyz (ci)' });
    fireEvent.change(within(form).getByLabelText('Applies to'), { target: { value: 'key:k1' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Set limit' }));
    expect(await screen.findByText('key gh_ab12…wxyz (ci)', { selector: 'td' })).toBeTruthy();
    expect(bridge.api.mock.calls.find(([route]) => route === 'setLimit')?.[1]).toMatchObject({
      body: { key_id: 'k1' },
    });

    const row = screen.getByText('the agent as a whole', { selector: 'td' }).closest('tr')!;
    fireEvent.click(within(row).getByRole('button', { name: 'Remove' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove limit' }));
    await waitFor(() => expect(screen.queryByText('the agent as a whole', { selector: 'td' })).toBeNull());
    expect(bridge.api).toHaveBeenCalledWith('deleteLimit', {
      projectId: 'p-default',
      params: { name: 'researcher', limit_id: 'l1' },
    });
  });
});
