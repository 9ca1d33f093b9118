import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  openDataDir(): void;
  restartDaemon(): void;
  /** Opens the daemon's API documentation (`/docs`) in the browser. */
  openApiDocs(): void;
}

/** The application menu (SPEC §8). Standard roles give the platform's own items and shortcuts. */
export function appMenuTemplate(
  platform: NodeJS.Platform,
  actions: MenuActions,
  devTools: boolean,
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Open Data Directory', click: () => actions.openDataDir() },
        { label: 'Restart Daemon', click: () => actions.restartDaemon() },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: '&View',
      submenu: [
        { role: 'reload' },
        ...(devTools ? [{ role: 'toggleDevTools' as const }] : []),
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
    { role: 'help', submenu: [{ label: 'API Documentation', click: () => actions.openApiDocs() }] },
  ];
}
