// @vitest-environment jsdom
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState, type ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BridgeResult, GatehouseBridge, Problem, ShellInfo } from '@gatehouse/shared';
import { AgentPicker, Dialog, PlaintextOnceDialog } from '../components.js';
import { Agents } from './Agents.js';
import { Approvals } from './Approvals.js';
import { Audit } from './Audit.js';
import { Permissions } from './Permissions.js';
import { Settings } from './Settings.js';
import { Login } from './SignIn.js';

/** The only fake: the `window.gatehouse` boundary, answering per route. */
function fakeBridge(
  answers: Record<string, (request: any) => BridgeResult<unknown>>,
  shellInfo: Partial<ShellInfo> = {},
) {
  const api = vi.fn(async (route: string, request: unknown) => answers[route]!(request));
  const info: ShellInfo = {
    shell: 'browser',
    daemon_url: 'http://127.0.0.1:7420',
    app_version: '0.1.0',
    can_restart_daemon: false,
    ...shellInfo,
  };
  const bridge = {
    api,
    session: {
      state: vi.fn(),
      setup: vi.fn(),
      login: vi.fn(),
      logout: vi.fn(),
    },
    events: vi.fn(() => () => undefined),
    shell: vi.fn(async () => ({ ok: true as const, data: info })),
    restartDaemon: vi.fn(async (): Promise<BridgeResult<ShellInfo>> => ({ ok: true, data: info })),
  };
  window.gatehouse = bridge as unknown as GatehouseBridge;
  return bridge;
}

const problem = (code: Problem['code'], detail: string, errors?: Problem['errors']): Problem => ({
  type: `urn:gatehouse:problem:${code}`,
  title: code,
  status: 400,
  detail,
  code,
  ...(errors ? { errors } : {}),
});

function renderWithClient(ui: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

const agent = (name: string) => ({
  id: `id-${name}`,
  name,
  description: null,
  status: 'active',
  provider: 'Anthropic',
  scopes: [],
  last_auth_at: null,
  created_at: '2026-11-23T06:00:00.000Z',
});

afterEach(cleanup);

describe('Login', () => {
  it('asks for the authenticator code when the daemon says mfa_required, and sends it', async () => {
    const bridge = fakeBridge({});
    bridge.session.login
      .mockResolvedValueOnce({ ok: false, problem: problem('mfa_required', 'send totp_code') })
      .mockResolvedValueOnce({ ok: true, data: { status: 'signed_out' } });
    renderWithClient(<Login />);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const code = await screen.findByLabelText('Authenticator code');
    fireEvent.change(code, { target: { value: '123456' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() =>
      expect(bridge.session.login).toHaveBeenLastCalledWith({
        username: 'admin',
        password: 'correct horse',
        totp_code: '123456',
      }),
    );
  });

  it('shows why a sign-in was refused', async () => {
    const bridge = fakeBridge({});
    bridge.session.login.mockResolvedValue({
      ok: false,
      problem: problem('unauthorized', 'Wrong username or password.'),
    });
    renderWithClient(<Login />);
    fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'admin' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'nope nope nope' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong username or password.');
  });
});

describe('Agents', () => {
  it('shows the empty state, then pages through the total the daemon reports', async () => {
    let total = 0;
    const bridge = fakeBridge({
      listAgents: ({ query }) => ({
        ok: true,
        data: Array.from({ length: Math.min(50, total - query.offset) }, (_, i) => agent(`agent-${query.offset + i}`)),
        total,
      }),
    });
    const view = renderWithClient(<Agents projectId="p1" />);
    expect(await screen.findByText(/No agents yet/)).toBeTruthy();
    view.unmount();

    total = 120;
    renderWithClient(<Agents projectId="p2" />);
    expect(await screen.findByText('agent-0')).toBeTruthy();
    expect(screen.getByText('1–50 of 120')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('agent-50')).toBeTruthy();
    expect(bridge.api).toHaveBeenLastCalledWith('listAgents', { projectId: 'p2', query: { limit: 50, offset: 50 } });
  });

  it('puts the daemon’s validation errors beside the field in the create dialog', async () => {
    fakeBridge({
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      createAgent: () => ({
        ok: false,
        problem: problem('validation_failed', 'Invalid body', [
          { location: 'body.name', message: 'must not contain /' },
          { location: 'body.description', message: 'must be at most 2000 characters' },
        ]),
      }),
    });
    renderWithClient(<Agents projectId="p1" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Create agent' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'bad/name' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create' }));
    expect(await screen.findByText('must not contain /')).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    // A field without a slot of its own is explained below the form, once; the name's error is not repeated.
    const note = screen.getByRole('alert');
    expect(note.textContent).toContain('description: must be at most 2000 characters');
    expect(note.textContent).not.toContain('must not contain /');
  });
});

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

describe('Dialog', () => {
  it('gives focus back to what opened it when it closes', async () => {
    function Opener() {
      const [open, setOpen] = useState(false);
      return (
        <>
          <button onClick={() => setOpen(true)}>Open</button>
          {open && (
            <Dialog title="Something" onClose={() => setOpen(false)}>
              <button onClick={() => setOpen(false)}>Close</button>
            </Dialog>
          )}
        </>
      );
    }
    render(<Opener />);
    const opener = screen.getByRole('button', { name: 'Open' });
    opener.focus();
    fireEvent.click(opener);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Close' }));
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(document.activeElement).toBe(opener);
  });
});

describe('PlaintextOnceDialog', () => {
  it('copies the secret, asks before closing, and clears the clipboard 60 s later even when closed', async () => {
    vi.useFakeTimers();
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const onClose = vi.fn();
    render(
      <PlaintextOnceDialog
        title="Key"
        secret="agent_abc"
        keychain={{ service: 'gatehouse', account: 'agent:default/a' }}
        onClose={onClose}
      />,
    );
    expect(screen.getByText(/agent:default\/a/)).toBeTruthy();
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Copy' })));
    expect(writeText).toHaveBeenLastCalledWith('agent_abc');

    fireEvent.click(screen.getByRole('button', { name: 'Done' }));
    expect(onClose).not.toHaveBeenCalled();
    expect(screen.getByRole('group', { name: 'Did you save it?' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Yes, close' }));
    expect(onClose).toHaveBeenCalledOnce();
    cleanup(); // the dialog is gone, as when its owner closes it

    await act(async () => vi.advanceTimersByTime(59_000));
    expect(writeText).toHaveBeenLastCalledWith('agent_abc');
    await act(async () => vi.advanceTimersByTime(1_000));
    expect(writeText).toHaveBeenLastCalledWith('');
    vi.useRealTimers();
  });
});

describe('Settings', () => {
  const status = () => ({
    ok: true as const,
    data: {
      version: '0.1.0',
      started_at: '2026-11-23T06:00:00.000Z',
      uptime_seconds: 3725,
      url: 'http://127.0.0.1:7420',
      port: 7420,
      data_dir: '/home/me/.local/share/gatehouse',
      db: { path: '/home/me/.local/share/gatehouse/gatehouse.db', ok: true, migrations: 5 },
      keychain: { backend: 'keychain', description: 'OS keychain (Secret Service), service gatehouse' },
    },
  });

  it('shows the daemon’s version, port, data directory and keychain', async () => {
    fakeBridge({ status });
    renderWithClient(<Settings />);
    expect(await screen.findByText('/home/me/.local/share/gatehouse')).toBeTruthy();
    expect(screen.getByText('7420')).toBeTruthy();
    expect(screen.getByText('1 h 2 min')).toBeTruthy();
    expect(screen.getByText(/Secret Service/)).toBeTruthy();
    // In the browser there is nothing to restart: it says where to do it.
    expect(screen.queryByRole('button', { name: 'Restart daemon' })).toBeNull();
    expect(screen.getByText(/Restart the daemon where it runs/)).toBeTruthy();
  });

  it('restarts the desktop app’s own daemon, and says why when it does not come back', async () => {
    const bridge = fakeBridge({ status }, { shell: 'electron', can_restart_daemon: true });
    renderWithClient(<Settings />);
    fireEvent.click(await screen.findByRole('button', { name: 'Restart daemon' }));
    await waitFor(() => expect(bridge.restartDaemon).toHaveBeenCalledOnce());
    await waitFor(() => expect(bridge.api.mock.calls.filter(([route]) => route === 'status')).toHaveLength(2));

    bridge.restartDaemon.mockResolvedValueOnce({
      ok: false,
      problem: problem('daemon_unavailable', 'The daemon did not start again: port 7420 is in use'),
    });
    fireEvent.click(screen.getByRole('button', { name: 'Restart daemon' }));
    expect(await screen.findByText(/port 7420 is in use/)).toBeTruthy();
  });
});

describe('Approvals', () => {
  it('lists pending requests and approves one', async () => {
    const bridge = fakeBridge({
      listApprovals: () => ({
        ok: true,
        data: [
          {
            id: 'a1',
            agent_name: 'mailer',
            tool: 'send_email',
            summary: 'Mail the report',
            status: 'pending',
            created_at: '2026-11-23T06:00:00.000Z',
            expires_at: '2026-11-23T06:15:00.000Z',
            decided_by: null,
          },
        ],
        total: 1,
      }),
      approveApproval: () => ({ ok: true, data: {} }),
    });
    renderWithClient(<Approvals projectId="p1" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    await waitFor(() =>
      expect(bridge.api).toHaveBeenCalledWith('approveApproval', { projectId: 'p1', params: { id: 'a1' }, body: {} }),
    );
  });
});

describe('Audit', () => {
  it('shows a broken chain loudly, with its break point', async () => {
    fakeBridge({
      listAudit: () => ({ ok: true, data: [], total: 0 }),
      listAgents: () => ({ ok: true, data: [], total: 0 }),
      verifyAudit: () => ({
        ok: true,
        data: { is_valid: false, entries_checked: 12, break_point: 7, error: 'entry_hash mismatch', verified_at: 'x' },
      }),
    });
    renderWithClient(<Audit projectId="p1" />);
    expect((await screen.findByRole('alert')).textContent).toContain('broken at entry #7');
  });
});

describe('Permissions', () => {
  it('shows effective tools, and lets only a super_admin change approval-required tools', async () => {
    fakeBridge({
      getAgentPermissions: () => ({
        ok: true,
        data: {
          agent_id: 'id-a',
          permissions_version: 4,
          allowed_tools: ['send_email'],
          approval_required_tools: ['send_email'],
          roles: [{ name: 'reader', description: null, tools: ['web_search'] }],
          effective_tools: ['send_email', 'web_search'],
        },
      }),
      listTools: () => ({ ok: true, data: [] }),
      listRoles: () => ({ ok: true, data: [] }),
    });
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    client.setQueryData(['session'], { status: 'signed_in', user: { role: 'admin' } });
    render(
      <QueryClientProvider client={client}>
        <Permissions projectId="p1" agent={agent('a') as any} />
      </QueryClientProvider>,
    );
    expect((await screen.findByTestId('effective-tools')).textContent).toBe('send_email, web_search');
    expect((screen.getByRole('checkbox', { name: /needs approval/ }) as HTMLInputElement).disabled).toBe(true);
    expect(screen.getByText(/Only a super_admin/)).toBeTruthy();
  });

  it('says so when the tools or roles to grant cannot be listed, instead of offering only "*"', async () => {
    fakeBridge({
      getAgentPermissions: () => ({
        ok: true,
        data: {
          agent_id: 'id-a',
          permissions_version: 1,
          allowed_tools: [],
          approval_required_tools: [],
          roles: [],
          effective_tools: [],
        },
      }),
      listTools: () => ({ ok: false, problem: problem('daemon_unavailable', 'The daemon cannot be reached.') }),
      listRoles: () => ({ ok: true, data: [] }),
    });
    renderWithClient(<Permissions projectId="p1" agent={agent('a') as any} />);
    expect((await screen.findByRole('alert')).textContent).toContain('The daemon cannot be reached.');
  });
});
