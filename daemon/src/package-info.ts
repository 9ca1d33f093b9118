import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Gatehouse's own package: the directory of its package.json and its version. Found by walking up
 * from this module, because the module runs at different depths: from daemon/src (tsx), or from
 * a chunk of the bundle under out/main (the `gatehouse` command, and the desktop app, where the
 * package is app.asar).
 */
function findPackage(): { dir: string; version: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'gatehouse' && pkg.version) return { dir, version: pkg.version };
    } catch {
      // no package.json here; keep climbing
    }
    if (dirname(dir) === dir) throw new Error('Gatehouse cannot find its own package.json');
  }
}

const found = findPackage();
export const PACKAGE_DIR: string = found.dir;
export const VERSION: string = found.version;
