import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError } from '../../api.js';
import { ErrorNote, Loading } from '../../ui/components.js';
import { settingsKeys, settingsQueries } from './queries.js';

const duration = (seconds: number) => {
  const [d, h, m] = [
    Math.floor(seconds / 86_400),
    Math.floor((seconds % 86_400) / 3600),
    Math.floor((seconds % 3600) / 60),
  ];
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min ${seconds % 60} s`;
};

/** The daemon this console talks to, and where its data and secrets live. */
export function SettingsPage(): React.JSX.Element {
  const client = useQueryClient();
  const restart = useMutation({
    mutationFn: async () => {
      const result = await window.gatehouse.restartDaemon();
      if (!result.ok) throw new ApiError(result.problem);
      return result.data;
    },
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKeys.status }),
  });
  const status = useQuery(settingsQueries.status());
  const shell = useQuery(settingsQueries.shell());
  if (status.isPending || shell.isPending) return <Loading />;
  if (status.isError) return <ErrorNote error={status.error} />;
  if (shell.isError) return <ErrorNote error={shell.error} />;
  const s = status.data;
  const rows: Array<[string, string]> = [
    ['Daemon version', s.version],
    ['Address', s.url],
    ['Port', String(s.port)],
    ['Data directory', s.data_dir],
    ['Database', `${s.db.path} (${s.db.ok ? `${s.db.migrations} migrations` : 'unreachable'})`],
    [
      'Keychain',
      `${s.keychain.backend}: ${s.keychain.description} (${s.keychain.health})${s.keychain.detail ? ` — ${s.keychain.detail}` : ''}`,
    ],
    ['Uptime', duration(s.uptime_seconds)],
    ['Console', `${shell.data.shell === 'electron' ? 'desktop app' : 'browser'} ${shell.data.app_version}`],
  ];
  return (
    <section>
      <h1>Settings</h1>
      <dl className="facts">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <div className="toolbar">
        {shell.data.can_restart_daemon ? (
          <button disabled={restart.isPending} onClick={() => restart.mutate()}>
            {restart.isPending ? 'Restarting…' : 'Restart daemon'}
          </button>
        ) : (
          <p className="muted">
            {shell.data.shell === 'electron' ? (
              'This daemon was started outside the app: restart it where it runs.'
            ) : (
              <>
                Restart the daemon where it runs: the desktop app, <code>gatehouse daemon</code>, or its service.
              </>
            )}
          </p>
        )}
      </div>
      <ErrorNote error={restart.error} />
    </section>
  );
}
