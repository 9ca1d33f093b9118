/*
 * Output: people get aligned tables and fields; programs (`--json`) get the contract's JSON,
 * exactly as the daemon answered it. Data goes to stdout, messages about it to stderr.
 */

export type Column<T> = [title: string, cell: (row: T) => unknown];

export function printJson(data: unknown): void {
  console.log(JSON.stringify(data, null, 2));
}

/** Columns padded to their widest cell; an empty value shows as `-`. */
export function formatTable<T>(rows: T[], columns: Column<T>[]): string {
  const lines = [columns.map(([title]) => title), ...rows.map((row) => columns.map(([, cell]) => text(cell(row))))];
  const widths = columns.map((_, i) => Math.max(...lines.map((line) => line[i]!.length)));
  return lines
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function printTable<T>(rows: T[], columns: Column<T>[]): void {
  console.log(formatTable(rows, columns));
}

/** One record as `name  value` lines. */
export function printFields(fields: Array<[name: string, value: unknown]>): void {
  const width = Math.max(...fields.map(([name]) => name.length));
  for (const [name, value] of fields) console.log(`${name.padEnd(width)}  ${text(value)}`);
}

/** A timestamp to the minute, for tables (the JSON keeps the full value). */
export const minute = (timestamp: string | null) => (timestamp ? `${timestamp.slice(0, 16).replace('T', ' ')}Z` : null);

function text(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.join(',') : '-';
  // One line per row: collapse newlines in free text (descriptions, prompts).
  return String(value).replace(/\s+/g, ' ');
}

/** How long work runs before its status line appears: quick answers print nothing extra. */
export const PROGRESS_DELAY_MS = 400;

/**
 * Progress on long work (SPEC §9): when `work` runs longer than a moment and `stream` is a
 * terminal, one status line says what is being done and for how long; it is erased when the
 * work ends, so the answer prints as it would have. Pipes and CI logs get nothing.
 */
export async function withProgress<T>(
  label: string,
  work: Promise<T>,
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
): Promise<T> {
  if (!stream.isTTY) return work;
  const started = Date.now();
  let shown = false;
  const show = () => {
    shown = true;
    stream.write(`\r\x1b[K${label}… ${Math.floor((Date.now() - started) / 1000)} s`);
  };
  let ticker: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    show();
    ticker = setInterval(show, 1000);
  }, PROGRESS_DELAY_MS);
  try {
    return await work;
  } finally {
    clearTimeout(delay);
    clearInterval(ticker);
    if (shown) stream.write('\r\x1b[K');
  }
}
