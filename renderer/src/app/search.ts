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
