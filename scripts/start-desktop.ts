/*
 * `npm start`: builds and runs the desktop app (electron-vite preview) where an Electron binary
 * can run. Elsewhere it says why in one line and points to the same console served by the daemon.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { homeFrom, readDiscovery } from '@gatehouse/daemon/home';
import { electronBinary } from '../electron/main/electron-binary.js';

const binary = electronBinary();
if ('reason' in binary) {
  const live = readDiscovery(homeFrom());
  const console_ = live
    ? `open the console of the running daemon at ${live.url}/`
    : `run \`bash scripts/start.sh\` and open http://127.0.0.1:${process.env.GATEHOUSE_PORT || 7420}/`;
  console.error(`gatehouse: the desktop app cannot run here: ${binary.reason}; ${console_} in a browser instead.`);
  process.exit(1);
}
const cli = join(dirname(createRequire(import.meta.url).resolve('electron-vite/package.json')), 'bin/electron-vite.js');
// The app's entry, until package.json names it in "main" (electron-builder sets it when packaging).
const env = { ...process.env, ELECTRON_ENTRY: process.env.ELECTRON_ENTRY ?? 'out/main/index.js' };
const { status } = spawnSync(process.execPath, [cli, 'preview'], { stdio: 'inherit', env });
process.exit(status ?? 1);
