/** What a cache needs of the database: a number that changes whenever the data may have. */
export interface DataGeneration {
  readonly generation: number;
}

/**
 * Memoises a hot read (credential lookups run on every agent request) for as long as the
 * database is unchanged: an entry is used only in the generation it was read in, so the request
 * after any write reads afresh. Concurrent misses of one key share one query. Entries must not
 * be mutated by their users (they are shared): cache rows, and build objects from them per call.
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
