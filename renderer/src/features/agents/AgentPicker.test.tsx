// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, fakeBridge } from '../../testing/console.js';
import { AgentPicker } from './AgentPicker.js';

function renderWithClient(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

afterEach(cleanup);

describe('AgentPicker', () => {
  it('finds agents by name on the daemon, 50 at most, and keeps the chosen one listed', async () => {
    const bridge = fakeBridge({
      listAgents: ({ query }) => {
        const names = query.q ? [`${query.q}-1`, `${query.q}-2`] : Array.from({ length: 50 }, (_, i) => `agent-${i}`);
        return { ok: true, data: names.map(agent), total: query.q ? 2 : 12_000 };
      },
    });
    const chosen: Array<string | null> = [];
    renderWithClient(
      <AgentPicker
        projectId="p1"
        label="Agent"
        noneLabel="Any"
        value={{ id: 'id-kept', name: 'kept', status: 'active' }}
        onChange={(picked) => chosen.push(picked?.name ?? null)}
      />,
    );
    expect(await screen.findByText('50 of 12000: type to narrow')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Search the agent list by name'), { target: { value: 'writer' } });
    expect(await screen.findByRole('option', { name: 'writer-2 (active)' })).toBeTruthy();
    expect(bridge.api).toHaveBeenLastCalledWith('listAgents', { projectId: 'p1', query: { limit: 50, q: 'writer' } });
    expect(screen.getByRole('option', { name: 'kept (active)' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Agent'), { target: { value: 'id-writer-1' } });
    expect(chosen).toEqual(['writer-1']);
  });
});
