import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Type, type Static } from 'typebox';
import { Value } from 'typebox/value';

const Bounds = Type.Object({ x: Type.Integer(), y: Type.Integer(), width: Type.Integer(), height: Type.Integer() });
export type Bounds = Static<typeof Bounds>;
const WindowState = Type.Object({ bounds: Bounds, maximized: Type.Boolean() });
export type WindowState = Static<typeof WindowState>;

/** What a new window gets: a size, and no position (the OS centres it). */
export interface InitialWindow {
  width: number;
  height: number;
  x?: number;
  y?: number;
  maximized: boolean;
}

const MIN_VISIBLE = 100;

const overlap = (a: Bounds, b: Bounds) =>
  Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x) >= MIN_VISIBLE &&
  Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y) >= MIN_VISIBLE;

/**
 * The window as the user left it, if it is still on a screen: a display may have been unplugged
 * since, and a window restored off-screen cannot be reached. Anything unreadable gives the default.
 */
export function loadWindowState(
  file: string,
  workAreas: Bounds[],
  fallback: { width: number; height: number },
): InitialWindow {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { ...fallback, maximized: false };
  }
  if (!Value.Check(WindowState, saved) || !workAreas.some((area) => overlap(saved.bounds, area))) {
    return { ...fallback, maximized: false };
  }
  return { ...saved.bounds, maximized: saved.maximized };
}

/** Written atomically, so a crash mid-write never leaves a half file. */
export function saveWindowState(file: string, state: WindowState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(state));
  renameSync(temporary, file);
}
