/** What a cache needs of the database: a number that changes whenever the data may have. */
export interface DataGeneration {
  readonly generation: number;
}

/**
 * Memoises a hot read (credential lookups run on every agent request) for as long as the
 * database is unchanged: an entry is used only in the generation it was read in, so the request
 * after any write reads afresh. Concurrent misses of one key share one query. Entries are shared
 * by every caller: cache frozen values (`frozenRow`).
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, { generation: number; value: Promise<V> }>();

  constructor(
    private readonly data: DataGeneration,
    private readonly capacity = 10_000,
  ) {}

  get(key: string, read: () => Promise<V>): Promise<V> {
    // Taken before the read starts: a write landing while it runs makes its answer stale at once.
    const generation = this.data.generation;
    const entry = this.entries.get(key);
    if (entry?.generation === generation) return entry.value;
    if (!entry && this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    const value = read();
    this.entries.set(key, { generation, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }
}

/**
 * A row and its JSON columns (arrays, objects), or verified claims and their lists, frozen: a
 * cached value is shared by every request.
 */
export function frozenRow<T extends object>(row: T): T {
  for (const value of Object.values(row)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(row);
}
