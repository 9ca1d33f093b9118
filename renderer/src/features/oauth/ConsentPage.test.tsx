// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { agent, fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

const pending = {
  client_id: 'c-123',
  client_name: 'Claude Desktop',
  redirect_uri: 'http://127.0.0.1:53124/callback',
  scopes: ['mcp:tools', 'offline_access'],
  resource: 'http://127.0.0.1:7420/mcp',
};
const back = 'http://127.0.0.1:7420/oauth/authorize/resume-1';

describe('the OAuth consent page', () => {
  const assign = vi.fn();
  beforeEach(() => {
    assign.mockReset();
    vi.stubGlobal('location', { ...window.location, assign });
  });
  afterEach(() => vi.unstubAllGlobals());

  const bridgeWith = (answers: Record<string, (request: any) => any> = {}) =>
    fakeBridge({
      getOAuthRequest: () => ({ ok: true, data: pending }),
      listAgents: () => ({ ok: true, data: [agent('assistant'), agent('researcher')], total: 2 }),
      ...answers,
    });

  it("shows the client's name, its redirect URI and the scopes it asks for", async () => {
    renderConsole('/oauth/consent/u1', bridgeWith());
    expect(await screen.findByRole('heading', { name: 'Authorize Claude Desktop' })).toBeTruthy();
    expect(screen.getByText('http://127.0.0.1:53124/callback')).toBeTruthy();
    const scopes = screen.getByRole('list', { name: 'Scopes' });
    expect(scopes.textContent).toContain('mcp:tools');
    expect(scopes.textContent).toContain('offline_access');
    expect((screen.getByRole('button', { name: 'Approve' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('approves as the chosen agent and sends the browser back to the authorization endpoint', async () => {
    const bridge = bridgeWith({ approveOAuthRequest: () => ({ ok: true, data: { redirect_to: back } }) });
    renderConsole('/oauth/consent/u1', bridge);
    fireEvent.change(await screen.findByLabelText('Act as agent'), { target: { value: 'researcher' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(back));
    expect(bridge.api).toHaveBeenCalledWith('approveOAuthRequest', {
      projectId: 'p-default',
      params: { uid: 'u1' },
      body: { agent: 'researcher' },
    });
  });

  it('creates a new agent to act as when asked', async () => {
    const bridge = bridgeWith({ approveOAuthRequest: () => ({ ok: true, data: { redirect_to: back } }) });
    renderConsole('/oauth/consent/u1', bridge);
    fireEvent.change(await screen.findByLabelText('Act as agent'), { target: { value: '__new__' } });
    fireEvent.change(screen.getByLabelText('New agent name'), { target: { value: 'claude-desktop' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('approveOAuthRequest', {
        projectId: 'p-default',
        params: { uid: 'u1' },
        body: { agent: 'claude-desktop', create_agent: true },
      }),
    );
  });

  it('denies, and the browser goes back with the answer', async () => {
    const bridge = bridgeWith({ denyOAuthRequest: () => ({ ok: true, data: { redirect_to: back } }) });
    renderConsole('/oauth/consent/u1', bridge);
    fireEvent.click(await screen.findByRole('button', { name: 'Deny' }));
    await waitFor(() => expect(assign).toHaveBeenCalledWith(back));
    expect(bridge.api).toHaveBeenCalledWith('denyOAuthRequest', { projectId: 'p-default', params: { uid: 'u1' } });
  });

  it('says so when the request is gone (answered or expired), and when approval is refused', async () => {
    renderConsole(
      '/oauth/consent/gone',
      bridgeWith({
        getOAuthRequest: () => ({ ok: false, problem: problem('not_found', 'Authorization request not found') }),
      }),
    );
    expect(await screen.findByText('Authorization request not found')).toBeTruthy();
    cleanup();

    renderConsole(
      '/oauth/consent/u1',
      bridgeWith({
        approveOAuthRequest: () => ({ ok: false, problem: problem('conflict', 'Agent "assistant" is suspended.') }),
      }),
    );
    fireEvent.change(await screen.findByLabelText('Act as agent'), { target: { value: 'assistant' } });
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    expect(await screen.findByText('Agent "assistant" is suspended.')).toBeTruthy();
    expect(assign).not.toHaveBeenCalled();
  });
});
