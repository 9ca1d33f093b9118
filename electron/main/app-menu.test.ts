import type { MenuItemConstructorOptions } from 'electron';
import { expect, it, vi } from 'vitest';
import { appMenuTemplate } from './app-menu.js';

const actions = { openDataDir: vi.fn(), restartDaemon: vi.fn(), openApiDocs: vi.fn() };
const items = (menu: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] =>
  menu.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? items(item.submenu) : [])]);
const named = (menu: MenuItemConstructorOptions[], label: string) => items(menu).find((item) => item.label === label);

it('has the platform’s own menus and the daemon actions', () => {
  const linux = appMenuTemplate('linux', actions, false);
  const mac = appMenuTemplate('darwin', actions, false);
  expect(mac[0]).toEqual({ role: 'appMenu' });
  expect(linux.map((item) => item.role ?? item.label)).toEqual(['&File', 'editMenu', '&View', 'windowMenu', 'help']);
  expect(items(linux).some((item) => item.role === 'quit')).toBe(true);
  expect(items(linux).some((item) => item.role === 'toggleDevTools')).toBe(false);
  expect(items(appMenuTemplate('linux', actions, true)).some((item) => item.role === 'toggleDevTools')).toBe(true);

  const click = (label: string) => (named(linux, label)!.click as () => void)();
  click('Restart Daemon');
  click('Open Data Directory');
  click('API Documentation');
  expect(actions.restartDaemon).toHaveBeenCalledOnce();
  expect(actions.openDataDir).toHaveBeenCalledOnce();
  expect(actions.openApiDocs).toHaveBeenCalledOnce();
});
