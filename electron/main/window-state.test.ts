import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadWindowState, saveWindowState } from './window-state.js';

const screen = { x: 0, y: 0, width: 1920, height: 1080 };
const fallback = { width: 1280, height: 800 };
let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-window-'));
  file = join(dir, 'state', 'window.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('window state', () => {
  it('restores the bounds and maximized flag it saved', () => {
    saveWindowState(file, { bounds: { x: 100, y: 50, width: 1000, height: 700 }, maximized: true });
    expect(loadWindowState(file, [screen], fallback)).toEqual({
      x: 100,
      y: 50,
      width: 1000,
      height: 700,
      maximized: true,
    });
  });

  it('falls back to a centred default without a file, with a broken one, or off every screen', () => {
    const centred = { width: 1280, height: 800, maximized: false };
    expect(loadWindowState(file, [screen], fallback)).toEqual(centred);

    saveWindowState(file, { bounds: { x: 2500, y: 100, width: 800, height: 600 }, maximized: false });
    expect(loadWindowState(file, [screen], fallback)).toEqual(centred);
    expect(loadWindowState(file, [screen, { x: 1920, y: 0, width: 1920, height: 1080 }], fallback)).toMatchObject({
      x: 2500,
    });

    writeFileSync(file, '{"bounds": {"x": "left"}}');
    expect(loadWindowState(file, [screen], fallback)).toEqual(centred);
    writeFileSync(file, 'not json');
    expect(loadWindowState(file, [screen], fallback)).toEqual(centred);
  });
});
