import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { electronBinary } from './electron-binary.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-electron-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('finds the downloaded binary, and says why not when it is missing or there is no display', () => {
  const display = { DISPLAY: ':99' };
  expect(electronBinary(display, 'linux', dir)).toEqual({ reason: expect.stringContaining('not installed') });

  writeFileSync(join(dir, 'path.txt'), 'electron');
  expect(electronBinary(display, 'linux', dir)).toEqual({ reason: expect.stringContaining('not installed') });

  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist', 'electron'), '');
  expect(electronBinary(display, 'linux', dir)).toEqual({ path: join(dir, 'dist', 'electron') });
  expect(electronBinary({}, 'linux', dir)).toEqual({ reason: expect.stringContaining('no display') });
  expect(electronBinary({}, 'darwin', dir)).toEqual({ path: join(dir, 'dist', 'electron') });
  expect(electronBinary({ ...display, ELECTRON_OVERRIDE_DIST_PATH: join(dir, 'elsewhere') }, 'linux', dir)).toEqual({
    reason: expect.stringContaining('not installed'),
  });
});
