import { expect, it } from 'vitest';
import { trayStatus } from './tray-status.js';

const healthy = { status: 'healthy', url: 'http://127.0.0.1:7420', pid: 1, version: '0.1.0', attached: false } as const;

it('shows the daemon state and the pending approvals', () => {
  expect(trayStatus(healthy, 2)).toEqual({
    label: 'Daemon running (http://127.0.0.1:7420)',
    level: 'ok',
    tooltip: 'Gatehouse — Daemon running (http://127.0.0.1:7420) — 2 approvals waiting',
  });
  expect(trayStatus(healthy, 1).tooltip).toMatch(/— 1 approval waiting$/);
  expect(trayStatus(healthy, 0).tooltip).toMatch(/— No approvals waiting$/);
  expect(trayStatus(healthy, null).tooltip).toBe('Gatehouse — Daemon running (http://127.0.0.1:7420)');
  expect(trayStatus({ status: 'restarting', reason: 'x', attempt: 1, delayMs: 500 }, 3)).toEqual({
    label: 'Daemon restarting (attempt 2)…',
    level: 'busy',
    tooltip: 'Gatehouse — Daemon restarting (attempt 2)…',
  });
  expect(trayStatus({ status: 'failed', reason: 'Port 7420 is already in use.' }, null).level).toBe('error');
});
