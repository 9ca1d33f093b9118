import type { DaemonState } from './daemon-supervisor.js';

export interface TrayStatus {
  /** The tray icon's tooltip: the daemon's state and, when signed in, the pending approvals. */
  tooltip: string;
  /** The first, disabled line of the tray menu. */
  label: string;
  level: 'ok' | 'busy' | 'error';
}

/** What the tray shows for a daemon state and a pending-approvals count (null while signed out). */
export function trayStatus(state: DaemonState, pending: number | null): TrayStatus {
  const daemon = (() => {
    switch (state.status) {
      case 'healthy':
        return { label: `Daemon running (${state.url})`, level: 'ok' as const };
      case 'starting':
        return { label: 'Daemon starting…', level: 'busy' as const };
      case 'restarting':
        return { label: `Daemon restarting (attempt ${state.attempt + 1})…`, level: 'busy' as const };
      case 'failed':
        return { label: 'Daemon stopped: it could not be started', level: 'error' as const };
      case 'stopped':
        return { label: 'Daemon stopped', level: 'error' as const };
    }
  })();
  const approvals =
    state.status === 'healthy' && pending !== null
      ? pending === 0
        ? 'No approvals waiting'
        : `${pending} approval${pending === 1 ? '' : 's'} waiting`
      : null;
  return { ...daemon, tooltip: ['Gatehouse', daemon.label, approvals].filter(Boolean).join(' — ') };
}
