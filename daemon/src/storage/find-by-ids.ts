/** Bound parameters per `IN (…)`: well under SQLite's and PostgreSQL's limits on a statement. */
export const IDS_PER_QUERY = 500;

/** The rows of `ids`, read `IDS_PER_QUERY` at a time by `find` (none read for none). */
export async function findByIds<T>(ids: readonly string[], find: (ids: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let start = 0; start < ids.length; start += IDS_PER_QUERY)
    rows.push(...(await find(ids.slice(start, start + IDS_PER_QUERY))));
  return rows;
}
