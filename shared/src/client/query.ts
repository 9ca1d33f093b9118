/**
 * The one query-string builder of every client: absent (`undefined`) and empty values are left
 * out — an empty filter box means "no filter" — and arrays repeat their key.
 */
export function queryString(query: object | undefined): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item !== undefined && item !== '')
        pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(item))}`);
    }
  }
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
}
