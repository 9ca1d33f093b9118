import { useEffect, useRef, useState } from 'react';

/**
 * Reading the URL's search parameters back into typed filters. A hand-edited or stale link
 * falls back to the default instead of failing: the URL is input like any other.
 */
export const searchOffset = (value: unknown): number | undefined => {
  const offset = Number(value);
  return Number.isInteger(offset) && offset > 0 ? offset : undefined;
};

export const searchText = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : typeof value === 'number'
      ? String(value)
      : undefined;

export const searchOneOf = <T extends string>(choices: readonly T[], value: unknown): T | undefined =>
  choices.includes(value as T) ? (value as T) : undefined;

/**
 * A search box whose words live in the URL: what is typed goes into it once the typing pauses (one
 * request per word, not per key), and a URL changed from outside (back, a link) refills the box.
 */
export function useUrlSearchText(
  inUrl: string | undefined,
  write: (text: string | undefined) => void,
  delayMs = 250,
): [text: string, setText: (text: string) => void] {
  const [text, setText] = useState(inUrl ?? '');
  const written = useRef(inUrl ?? '');
  useEffect(() => {
    if ((inUrl ?? '') === written.current) return;
    written.current = inUrl ?? '';
    setText(inUrl ?? '');
  }, [inUrl]);
  useEffect(() => {
    const timer = setTimeout(() => {
      const settled = text.trim();
      if (settled === written.current) return;
      written.current = settled;
      write(settled || undefined);
    }, delayMs);
    return () => clearTimeout(timer);
  }, [text, write, delayMs]);
  return [text, setText];
}
