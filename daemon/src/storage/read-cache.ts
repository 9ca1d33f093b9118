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
  private readonly entries = new Map<string, Entry<V>>();

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
    return readThrough(this.entries, generation, key, read);
  }

  /**
   * The value `get` would give now, without a promise: only once a read of this generation has
   * finished. Lets an agent request whose credential is known be checked synchronously.
   */
  known(key: string): Known<V> | undefined {
    const entry = this.entries.get(key);
    return entry?.generation === this.data.generation ? entry.known : undefined;
  }
}

/**
 * A ReadCache keyed by objects — a verified credential, as the caches above share it (a key's
 * row, a token's claims) — whose entries go with their key: no capacity to manage.
 */
export class WeakReadCache<K extends object, V> {
  private readonly entries = new WeakMap<K, Entry<V>>();

  constructor(private readonly data: DataGeneration) {}

  get(key: K, read: () => Promise<V>): Promise<V> {
    const generation = this.data.generation;
    const entry = this.entries.get(key);
    if (entry?.generation === generation) return entry.value;
    return readThrough(this.entries, generation, key, read);
  }

  /** As `ReadCache.known`. */
  known(key: K): Known<V> | undefined {
    const entry = this.entries.get(key);
    return entry?.generation === this.data.generation ? entry.known : undefined;
  }
}

/** A finished read's value, boxed: a read may well have found `null`. */
export interface Known<V> {
  readonly value: V;
}

interface Entry<V> {
  generation: number;
  value: Promise<V>;
  /** Set when the read succeeds. */
  known: Known<V> | undefined;
}

/** Starts the read and keeps it for its generation; a failed read is forgotten, so the next one retries. */
function readThrough<K, V>(
  entries: { get(key: K): Entry<V> | undefined; set(key: K, entry: Entry<V>): unknown; delete(key: K): unknown },
  generation: number,
  key: K,
  read: () => Promise<V>,
): Promise<V> {
  const value = read();
  const entry: Entry<V> = { generation, value, known: undefined };
  entries.set(key, entry);
  value.then(
    (result) => (entry.known = { value: result }),
    () => {
      if (entries.get(key) === entry) entries.delete(key);
    },
  );
  return value;
}

/**
 * A row and its JSON columns (arrays, objects), or verified claims and their lists, frozen: a
 * cached value is shared by every request.
 */
export function frozenRow<T extends object>(row: T): T {
  for (const value of Object.values(row)) if (typeof value === 'object' && value !== null) Object.freeze(value);
  return Object.freeze(row);
}
