import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { PROGRESS_DELAY_MS, withProgress } from './output.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const terminal = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, stream: { isTTY, write: (text: string) => written.push(text) > 0 } };
};
const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

it('says nothing about quick work', async () => {
  const { written, stream } = terminal(true);
  const done = withProgress('Issue an API key', after(PROGRESS_DELAY_MS - 100, 'key'), stream);
  await vi.advanceTimersByTimeAsync(PROGRESS_DELAY_MS);
  expect(await done).toBe('key');
  expect(written).toEqual([]);
});

it('shows long work on a terminal with its time, then erases the line', async () => {
  const { written, stream } = terminal(true);
  const done = withProgress('Sign in', after(2_500, 'tokens'), stream);
  await vi.advanceTimersByTimeAsync(2_500);
  expect(await done).toBe('tokens');
  expect(written).toEqual(['\r\x1b[KSign in… 0 s', '\r\x1b[KSign in… 1 s', '\r\x1b[KSign in… 2 s', '\r\x1b[K']);
});

it('erases the line when the work fails too, and writes nothing into a pipe', async () => {
  const { written, stream } = terminal(true);
  const failing = withProgress(
    'Sign in',
    after(1_000, null).then(() => Promise.reject(new Error('refused'))),
    stream,
  );
  const refused = expect(failing).rejects.toThrow('refused');
  await vi.advanceTimersByTimeAsync(1_000);
  await refused;
  expect(written.at(-1)).toBe('\r\x1b[K');

  const pipe = terminal(false);
  const piped = withProgress('Sign in', after(2_000, 'tokens'), pipe.stream);
  await vi.advanceTimersByTimeAsync(2_000);
  expect(await piped).toBe('tokens');
  expect(pipe.written).toEqual([]);
});
