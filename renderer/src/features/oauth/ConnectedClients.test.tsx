// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe("an agent's connected OAuth clients", () => {
  it('lists the clients acting as the agent and revokes one after confirmation', async () => {
    let connected = [
      {
        client_id: 'c-123',
        client_name: 'Claude Desktop',
        scopes: ['mcp:tools'],
        connected_at: '2026-12-05T06:00:00.000Z',
        expires_at: '2027-01-04T06:00:00.000Z',
      },
    ];
    const bridge = fakeBridge({
      getAgent: () => ({ ok: true, data: agent('assistant') }),
      listConnectedClients: () => ({ ok: true, data: connected, total: connected.length }),
      revokeConnectedClient: () => {
        connected = [];
        return { ok: true, data: null };
      },
    });
    renderConsole('/agents/assistant?tab=Clients', bridge);
    const table = await screen.findByRole('table', { name: 'Connected clients' });
    expect(within(table).getByText('Claude Desktop')).toBeTruthy();
    fireEvent.click(within(table).getByRole('button', { name: 'Revoke' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke client' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('revokeConnectedClient', {
        projectId: 'p-default',
        params: { name: 'assistant', client_id: 'c-123' },
      }),
    );
    expect(await screen.findByText(/No OAuth client acts as this agent/)).toBeTruthy();
  });
});
