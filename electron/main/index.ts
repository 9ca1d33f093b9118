import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  ipcMain,
  Menu,
  Notification,
  protocol,
  screen,
  session,
  shell,
  Tray,
  type IpcMainInvokeEvent,
  type WebContents,
} from 'electron';
import { currentLogFile, DAEMON_NODE_FLAGS, homeFrom } from '@gatehouse/daemon/home';
import { bridgeChannels, eventPushChannel } from '@gatehouse/shared';
import trayIcon from '../resources/tray.png?asset';
import { appMenuTemplate } from './app-menu.js';
import { APP_SCHEME, APP_URL, appFilePath, contentSecurityPolicy, contentTypeOf, isAppUrl } from './app-protocol.js';
import { ApprovalsWatch } from './approvals-watch.js';
import { BridgeHost } from './bridge-host.js';
import type { Sender } from './bridge-dispatch.js';
import { DaemonSupervisor } from './daemon-supervisor.js';
import { failureAction, failurePage, startingPage, type FailureAction } from './status-page.js';
import { trayStatus } from './tray-status.js';
import { loadWindowState, saveWindowState } from './window-state.js';

/*
 * Electron main: wiring only. Everything with logic lives in the plain modules beside this file,
 * which are tested in Node against the real daemon.
 */

const here = fileURLToPath(new URL('.', import.meta.url));
/** Set by `electron-vite dev`: the renderer comes from the Vite dev server. */
const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const home = homeFrom();
const logFile = currentLogFile(home);

// Before `ready`: the console's origin is a standard, secure scheme of its own.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);

if (!app.requestSingleInstanceLock()) app.quit();
else start();

function start(): void {
  /** Set by the failure page's "Start on a free port" (`0`) when the usual one is taken. */
  let port: string | undefined;
  const supervisor = new DaemonSupervisor({
    home,
    // The daemon runs under Electron's own Node; its one-line startup errors come on stderr.
    launch: () =>
      fork(join(here, 'daemon.js'), ['daemon', '--home', home, '--quiet', ...(port ? ['--port', port] : [])], {
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
        execArgv: [...DAEMON_NODE_FLAGS],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      }),
  });
  const host = new BridgeHost({
    daemonUrl: () => supervisor.url,
    isAppUrl: (url) => isAppUrl(url, devServerUrl),
    appVersion: app.getVersion(),
    daemon: {
      canRestart: () => supervisor.canRestart,
      restart: async () => {
        const state = await supervisor.restart();
        return state.status === 'healthy'
          ? { ok: true }
          : { ok: false, reason: state.status === 'failed' ? state.reason : state.status };
      },
    },
  });
  let window: BrowserWindow | null = null;
  let tray: Tray | null = null;
  let pending: number | null = null;

  const showWindow = () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.show();
    window.focus();
  };

  const updateTray = () => {
    if (!tray) return;
    const status = trayStatus(supervisor.state, pending);
    tray.setToolTip(status.tooltip);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: status.label, enabled: false },
        ...(pending ? [{ label: `${pending} approval(s) waiting`, click: showWindow }] : []),
        { type: 'separator' },
        { label: 'Show Gatehouse', click: showWindow },
        { label: 'Restart Daemon', enabled: supervisor.canRestart, click: () => void supervisor.restart() },
        { label: 'Quit', click: () => app.quit() },
      ]),
    );
  };

  const runFailureAction = (action: FailureAction) => {
    if (action === 'retry') void supervisor.retry();
    else if (action === 'free-port') {
      port = '0';
      void supervisor.retry();
    } else if (action === 'open-data-dir') void shell.openPath(home);
    else if (action === 'open-log') void shell.openPath(logFile);
    else app.quit();
  };

  const showPage = (html: string) => void window?.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
  /**
   * The console while the daemon runs; the failure page (with the ways out) when it could not
   * start; until then a page saying it is starting. A console already open stays through a
   * restart (it says the daemon is unavailable for that moment), keeping its screen.
   */
  const showCurrent = () => {
    if (!window) return;
    const state = supervisor.state;
    const showingConsole = isAppUrl(window.webContents.getURL(), devServerUrl);
    if (state.status === 'failed') showPage(failurePage({ reason: state.reason, dataDir: home, logFile }));
    else if (state.status === 'healthy' && !showingConsole) void window.loadURL(devServerUrl ?? APP_URL);
    else if ((state.status === 'starting' || state.status === 'restarting') && !showingConsole)
      showPage(startingPage({ logFile, ...(state.status === 'restarting' && { restarting: state }) }));
  };

  const createWindow = () => {
    const stateFile = join(app.getPath('userData'), 'window-state.json');
    const { maximized, ...bounds } = loadWindowState(
      stateFile,
      screen.getAllDisplays().map((display) => display.workArea),
      { width: 1280, height: 820 },
    );
    window = new BrowserWindow({
      ...bounds,
      minWidth: 900,
      minHeight: 600,
      show: false,
      title: 'Gatehouse',
      icon: trayIcon,
      webPreferences: {
        preload: join(here, '../preload/index.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        webviewTag: false,
        spellcheck: false,
      },
    });
    if (maximized) window.maximize();
    window.once('ready-to-show', showWindow);
    window.on('close', () => {
      if (window) saveWindowState(stateFile, { bounds: window.getNormalBounds(), maximized: window.isMaximized() });
    });
    window.on('closed', () => (window = null));
    showCurrent();
  };

  // Every web contents: no new windows, no navigation away from the console, no <webview>.
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (isAppUrl(url, devServerUrl)) return;
      event.preventDefault();
      const action = failureAction(url);
      if (action) runFailureAction(action);
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.once('destroyed', () => host.forgetSender(contents.id));
  });

  app.on('second-instance', showWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => (window ? showWindow() : createWindow()));

  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    // Stop the daemon gracefully (it finishes in-flight requests) before the app exits.
    event.preventDefault();
    void supervisor.stop().finally(() => {
      stopped = true;
      app.quit();
    });
  });

  for (const { channel } of Object.values(bridgeChannels)) {
    ipcMain.handle(channel, (event: IpcMainInvokeEvent, arg: unknown) => host.handle(channel, arg, senderOf(event)));
  }

  void app.whenReady().then(() => {
    // Nothing the page asks for is granted, except writing to the clipboard (the copy buttons).
    session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
      callback(permission === 'clipboard-sanitized-write'),
    );
    protocol.handle(APP_SCHEME, async (request) => {
      const file = appFilePath(join(here, '../renderer'), request.url);
      const body = file ? await readFile(file).catch(() => null) : null;
      if (!file || !body) return new Response('Not found', { status: 404 });
      return new Response(body, {
        headers: {
          'content-type': contentTypeOf(file),
          'content-security-policy': contentSecurityPolicy(),
          'x-content-type-options': 'nosniff',
        },
      });
    });
    if (devServerUrl) {
      session.defaultSession.webRequest.onHeadersReceived({ urls: [`${devServerUrl}/*`] }, (details, callback) =>
        callback({
          responseHeaders: {
            ...details.responseHeaders,
            'Content-Security-Policy': [contentSecurityPolicy(devServerUrl)],
          },
        }),
      );
    }

    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        appMenuTemplate(
          process.platform,
          {
            openDataDir: () => void shell.openPath(home),
            restartDaemon: () => void supervisor.restart(),
            openApiDocs: () => supervisor.url && void shell.openExternal(`${supervisor.url}/docs`),
          },
          !app.isPackaged,
        ),
      ),
    );
    tray = new Tray(trayIcon);
    tray.on('click', showWindow);

    new ApprovalsWatch({
      host,
      onCount: (count) => {
        pending = count;
        updateTray();
      },
      notify: ({ title, body }) => {
        if (!Notification.isSupported()) return;
        const notification = new Notification({ title, body });
        notification.on('click', () => {
          showWindow();
          // To the request itself: the console's Approvals screen (a change of the hash, not a reload).
          if (window && isAppUrl(window.webContents.getURL(), devServerUrl))
            void window.loadURL(`${devServerUrl ?? APP_URL}#/approvals`);
        });
        notification.show();
      },
    });
    supervisor.onChange(() => {
      updateTray();
      showCurrent();
    });
    createWindow();
    updateTray();
    void supervisor.start();
  });
}

/** Who sent an IPC message, for the bridge host's sender check; events go back to the same window. */
function senderOf(event: IpcMainInvokeEvent): Sender {
  const frame = event.senderFrame;
  const contents = event.sender;
  return {
    id: contents.id,
    url: frame?.url ?? '',
    isMainFrame: frame !== null && frame === contents.mainFrame,
    push: (consoleEvent) => {
      if (!contents.isDestroyed()) contents.send(eventPushChannel, consoleEvent);
    },
  };
}
