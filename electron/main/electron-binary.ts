import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The installed `electron` package (resolved without running it: its index.js would try to download). */
const electronPackage = () => dirname(createRequire(import.meta.url).resolve('electron/package.json'));

/**
 * Where the Electron binary is, or why the desktop app cannot run on this machine. Used by
 * `npm start` and the Playwright `_electron` spec; it never triggers Electron's lazy download.
 */
export function electronBinary(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  packageDir: string = electronPackage(),
): { path: string } | { reason: string } {
  const pathFile = join(packageDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, name ?? 'electron')
    : name && join(packageDir, 'dist', name);
  if (!binary || !existsSync(binary)) {
    return {
      reason:
        'the Electron binary is not installed (it is fetched from GitHub on first run, which this machine cannot reach)',
    };
  }
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { reason: 'there is no display (DISPLAY/WAYLAND_DISPLAY are unset; try xvfb-run)' };
  }
  return { path: binary };
}
