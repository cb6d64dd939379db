/** A column of a table: its header, how to read a cell from a row, and its alignment. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | readonly string[] | null | undefined;
  align?: 'left' | 'right';
  /** Longer cells are cut with an ellipsis, so one long title cannot wreck the layout. */
  maxWidth?: number;
}

/**
 * Renders rows as aligned columns separated by two spaces, headers first, no trailing spaces.
 * Control characters in values are replaced: a task title must not be able to move the cursor
 * or recolour the terminal of the maintainer who lists it.
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((column) => truncate(cellText(column.value(row)), column.maxWidth)),
  );
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...cells.map((line) => line[i]!.length)),
  );
  const render = (line: string[]) =>
    line
      .map((cell, i) =>
        columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

/** Two columns, label and value: for one object (a repo's settings, the pool's counts). */
export function formatRecord(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...pairs.map(([label]) => label.length));
  return pairs
    .map(([label, value]) => `${label.padEnd(width)}  ${cellText(value)}`.trimEnd())
    .join('\n');
}

/** A cell's text: `-` for nothing, lists joined with commas, control characters made harmless. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.map(cellText).join(',') : '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  // eslint-disable-next-line no-control-regex
  return String(value).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

export function truncate(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || text.length <= maxWidth) return text;
  return `${text.slice(0, Math.max(0, maxWidth - 1))}…`;
}

/** "in 29m", "3h ago": how far `iso` is from `now`, at the coarsest unit that is not zero. */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const ms = Date.parse(iso) - now;
  const seconds = Math.round(Math.abs(ms) / 1000);
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const [unit, size] = units.find(([, size]) => seconds >= size) ?? ['s', 1];
  const amount = `${Math.floor(seconds / size)}${unit}`;
  return ms >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** `[#########-----------]  12/40` — one line, redrawn in place with a carriage return. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(done).padStart(
    String(total).length,
  )}/${total}`;
}
