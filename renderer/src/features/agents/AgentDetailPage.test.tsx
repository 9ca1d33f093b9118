// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { agent, fakeBridge, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const researcher = {
  ...agent('researcher'),
  description: 'Web research',
  system_prompt: null,
  scopes: ['web:read'],
  public_key: '-----BEGIN PUBLIC KEY-----',
  key_fingerprint: 'SHA256:abc',
};

function agentBridge(status = 'active', keys: unknown[] = []) {
  let current = { ...researcher, status };
  return fakeBridge({
    getAgent: () => ({ ok: true, data: current }),
    updateAgent: ({ body }) => {
      current = { ...current, ...body };
      return { ok: true, data: current };
    },
    revokeAgent: () => {
      current = { ...current, status: 'revoked' };
      return { ok: true, data: current };
    },
    listKeys: () => ({ ok: true, data: keys }),
    rotateKey: () => ({ ok: true, data: { id: 'k2', api_key: 'agent_rotated_secret', keychain: null } }),
    createKey: () => ({
      ok: true,
      data: { id: 'k1', api_key: 'agent_new_secret', keychain: null },
    }),
  });
}

describe('AgentDetailPage', () => {
  it('opens the tab the URL names, and puts the chosen tab in the URL', async () => {
    const bridge = agentBridge();
    const { router } = renderConsole('/agents/researcher?tab=Identity', bridge);
    expect(await screen.findByText('SHA256:abc')).toBeTruthy();
    expect(screen.getByRole('tab', { name: 'Identity' }).getAttribute('aria-selected')).toBe('true');
    fireEvent.mouseDown(screen.getByRole('tab', { name: 'Keys' }));
    await waitFor(() => expect(router.state.location.search).toEqual({ project: 'default', tab: 'Keys' }));
    expect(await screen.findByText(/No keys/)).toBeTruthy();
  });

  it('saves the overview, sending an emptied field as null', async () => {
    const bridge = agentBridge();
    renderConsole('/agents/researcher', bridge);
    fireEvent.change(await screen.findByLabelText('Description'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Provider'), { target: { value: 'OpenAI' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('Saved.')).toBeTruthy();
    expect(bridge.api).toHaveBeenCalledWith('updateAgent', {
      projectId: 'p-default',
      params: { name: 'researcher' },
      body: { description: null, provider: 'OpenAI', system_prompt: null },
    });
  });

  it('creates a key with the chosen expiry and scopes, and shows it once', async () => {
    const bridge = agentBridge();
    renderConsole('/agents/researcher?tab=Keys', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Create key' }));
    const dialog = screen.getByRole('dialog', { name: 'Create key' });
    fireEvent.change(within(dialog).getByLabelText('Expires after'), { target: { value: '7' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'web:read' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect((await screen.findByTestId('plaintext-secret')).textContent).toBe('agent_new_secret');
    expect(bridge.api).toHaveBeenCalledWith('createKey', {
      projectId: 'p-default',
      params: { name: 'researcher' },
      body: { expires_in_days: 7, scopes: ['web:read'] },
    });
  });

  it('revokes for good only after a confirm dialog that says it cannot be undone', async () => {
    const bridge = agentBridge();
    renderConsole('/agents/researcher', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Revoke for good' }));
    const confirm = screen.getByRole('alertdialog', { name: 'Revoke researcher for good?' });
    expect(confirm.textContent).toContain('it can never be resumed');
    expect(bridge.api.mock.calls.some(([route]) => route === 'revokeAgent')).toBe(false);
    fireEvent.click(within(confirm).getByRole('button', { name: 'Revoke for good' }));
    expect(await screen.findByText('Revoked for good')).toBeTruthy();
  });

  it('rotates a key with the chosen grace period, and shows the new one once', async () => {
    const key = {
      id: 'k1',
      label: null,
      prefix: 'AbCd1234',
      last_four: 'wxyz',
      scopes: [],
      expires_at: null,
      last_used_at: null,
      active: true,
    };
    const bridge = agentBridge('active', [key]);
    renderConsole('/agents/researcher?tab=Keys', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Rotate' }));
    const dialog = screen.getByRole('dialog', { name: 'Rotate key' });
    fireEvent.change(within(dialog).getByLabelText('Grace period'), { target: { value: '0' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Rotate' }));
    expect((await screen.findByTestId('plaintext-secret')).textContent).toBe('agent_rotated_secret');
    expect(bridge.api).toHaveBeenCalledWith('rotateKey', {
      projectId: 'p-default',
      params: { name: 'researcher', key_id: 'k1' },
      body: { grace_seconds: 0 },
    });
  });

  it("shows the agent's activity in the overview's chart, each figure a link to its audit events", async () => {
    const window = (since: string, requests: number) => ({
      since,
      totals: { requests, denials: 1, tool_calls: 0, approvals: 0 },
      buckets: [{ start: since, requests, denials: 1, tool_calls: 0, approvals: 0 }],
    });
    const bridge = agentBridge();
    const answer = bridge.api.getMockImplementation()!;
    bridge.api.mockImplementation(async (route, request) =>
      route === 'getAgentActivity'
        ? {
            ok: true,
            data: { day: window('2026-12-04T07:00:00.000Z', 4), week: window('2026-11-29T00:00:00.000Z', 9) },
          }
        : route === 'listAudit'
          ? { ok: true, data: [], total: 0 }
          : answer(route, request),
    );
    renderConsole('/agents/researcher?tab=Activity', bridge);
    const requests = await screen.findByRole('link', { name: 'Requests, last 24 hours: 4' });
    const search = new URLSearchParams(requests.getAttribute('href')!.split('?')[1]);
    expect(search.get('agent')).toBe('researcher');
    expect(search.get('event_type')).toBe('connection.called');
    expect(bridge.api).toHaveBeenCalledWith('getAgentActivity', {
      projectId: 'p-default',
      params: { name: 'researcher' },
    });
    fireEvent.mouseDown(screen.getByRole('tab', { name: 'Last 7 days' }));
    expect(await screen.findByRole('link', { name: 'Requests, last 7 days: 9' })).toBeTruthy();
    expect(await screen.findByText('No activity yet.')).toBeTruthy();
  });
});
