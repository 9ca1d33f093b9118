/** The ways out of the failure screen; each button is a link the window intercepts. */
export const failureActions = ['retry', 'free-port', 'open-data-dir', 'open-log', 'quit'] as const;
export type FailureAction = (typeof failureActions)[number];

const ACTION_PREFIX = 'gatehouse://action/';

/** The action a link of the failure page names, or null for any other URL. */
export function failureAction(url: string): FailureAction | null {
  if (!url.startsWith(ACTION_PREFIX)) return null;
  const action = url.slice(ACTION_PREFIX.length);
  return (failureActions as readonly string[]).includes(action) ? (action as FailureAction) : null;
}

/** The daemon's own reason when its port is taken (daemon/src/daemon.ts, EADDRINUSE). */
const PORT_IN_USE = /^Port \d+ is already in use/;

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * A self-contained page of the window's own while the console cannot be shown: it runs no
 * script (its CSP forbids any), so it works even when the console's files are what is broken.
 */
function statusPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escape(title)}</title>
<style>
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, sans-serif; }
  body { max-width: 40rem; margin: 4rem auto; padding: 0 1.5rem; }
  h1 { font-size: 1.4rem; }
  .reason { padding: 1rem; border-left: 4px solid #c62828; background: color-mix(in srgb, #c62828 10%, transparent); }
  code { font-size: 0.9em; word-break: break-all; }
  .actions { display: flex; gap: 0.75rem; margin-top: 2rem; }
  .button { padding: 0.5rem 1rem; border: 1px solid currentColor; border-radius: 6px; color: inherit; text-decoration: none; }
  .button.primary { background: #1565c0; border-color: #1565c0; color: white; }
  .button:focus-visible { outline: 3px solid #90caf9; outline-offset: 2px; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** While the daemon starts (or restarts after a crash): what is happening, and where to look. */
export function startingPage(options: { restarting?: { reason: string; attempt: number }; logFile: string }): string {
  const { restarting, logFile } = options;
  return statusPage(
    'Gatehouse — starting',
    restarting
      ? `<h1>Restarting the Gatehouse daemon…</h1>
<p class="reason" role="status">It stopped: ${escape(restarting.reason)} (attempt ${restarting.attempt}).</p>
<p>Daemon log: <code>${escape(logFile)}</code></p>`
      : `<h1 role="status">Starting the Gatehouse daemon…</h1>
<p>The console opens as soon as it answers.</p>`,
  );
}

/**
 * When the daemon cannot start (port in use, keychain locked…): the daemon's own one-line reason,
 * where the data and log are, and the ways out (when the port is taken, one is to start on a free
 * port: the console finds it by daemon.json).
 */
export function failurePage(options: { reason: string; dataDir: string; logFile: string }): string {
  const button = (action: FailureAction, label: string, primary = false) =>
    `<a class="button${primary ? ' primary' : ''}" href="${ACTION_PREFIX}${action}">${label}</a>`;
  return statusPage(
    'Gatehouse — the daemon could not start',
    `<h1>Gatehouse could not start its daemon</h1>
<p class="reason" role="alert">${escape(options.reason)}</p>
<p>Data directory: <code>${escape(options.dataDir)}</code><br>Daemon log: <code>${escape(options.logFile)}</code></p>
<nav class="actions" aria-label="What to do">
${button('retry', 'Retry', true)}
${PORT_IN_USE.test(options.reason) ? button('free-port', 'Start on a free port') : ''}
${button('open-data-dir', 'Open data directory')}
${button('open-log', 'Open log')}
${button('quit', 'Quit')}
</nav>`,
  );
}
