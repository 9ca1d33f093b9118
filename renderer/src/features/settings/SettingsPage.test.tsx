// @vitest-environment jsdom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeBridge, problem, renderConsole } from '../../testing/console.js';

afterEach(cleanup);

describe('Settings', () => {
  const status = (health: { health: 'ok' | 'locked'; detail: string | null } = { health: 'ok', detail: null }) => ({
    ok: true as const,
    data: {
      version: '0.1.0',
      started_at: '2026-11-23T06:00:00.000Z',
      uptime_seconds: 3725,
      url: 'http://127.0.0.1:7420',
      port: 7420,
      data_dir: '/home/me/.local/share/gatehouse',
      db: { path: '/home/me/.local/share/gatehouse/gatehouse.db', ok: true, migrations: 5 },
      keychain: {
        backend: 'keychain',
        description: 'OS keychain (Secret Service), service gatehouse',
        ...health,
      },
    },
  });

  it('shows the daemon’s version, port, data directory and keychain', async () => {
    const bridge = fakeBridge({ status: () => status() });
    renderConsole('/settings', bridge);
    expect(await screen.findByText('/home/me/.local/share/gatehouse')).toBeTruthy();
    expect(screen.getByText('7420')).toBeTruthy();
    expect(screen.getByText('1 h 2 min')).toBeTruthy();
    expect(screen.getByText(/Secret Service/)).toBeTruthy();
    // In the browser there is nothing to restart: it says where to do it.
    expect(screen.queryByRole('button', { name: 'Restart daemon' })).toBeNull();
    expect(screen.getByText(/Restart the daemon where it runs/)).toBeTruthy();
  });

  it('says when the keychain is locked, and what to do about it', async () => {
    const locked = () =>
      status({ health: 'locked', detail: 'The OS keychain is locked. Unlock your login keyring and try again.' });
    renderConsole('/settings', fakeBridge({ status: locked }));
    expect(await screen.findByText(/\(locked\) — The OS keychain is locked\. Unlock your login keyring/)).toBeTruthy();
  });

  it('restarts the desktop app’s own daemon, and says why when it does not come back', async () => {
    const bridge = fakeBridge({ status: () => status() }, { shell: 'electron', can_restart_daemon: true });
    renderConsole('/settings', bridge);
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
