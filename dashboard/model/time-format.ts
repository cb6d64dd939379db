/** Times as the dashboard shows them: relative for freshness, local clock time for the feed. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A short duration: `12 s`, `4 min`, `3 h`, `2 d`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.floor(abs / SECOND)} s`;
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)} min`;
  if (abs < DAY) return `${Math.floor(abs / HOUR)} h`;
  return `${Math.floor(abs / DAY)} d`;
}

/** A span to read at a glance: `45 s`, `40 min`, `1 h 5 min`, `2 d 3 h` (two units at most). */
export function formatSpan(ms: number): string {
  let rest = Math.round(Math.abs(ms) / SECOND);
  const parts = (
    [
      ['d', DAY / SECOND],
      ['h', HOUR / SECOND],
      ['min', MINUTE / SECOND],
      ['s', 1],
    ] as const
  ).map(([unit, size]) => {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    return { amount, unit };
  });
  const first = parts.findIndex((p) => p.amount > 0);
  if (first < 0) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter((p) => p.amount > 0)
    .map((p) => `${p.amount} ${p.unit}`)
    .join(' ');
}

/** `just now`, `12 s ago`, `3 h ago`; `never` for a missing time. */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (!iso) return 'never';
  const age = nowMs - Date.parse(iso);
  if (age < 5 * SECOND) return 'just now';
  return `${formatDuration(age)} ago`;
}

/** A lease deadline: `in 12 min`, or `expired 2 min ago`. */
export function formatDeadline(iso: string | null, nowMs: number): string {
  if (!iso) return 'no deadline';
  const left = Date.parse(iso) - nowMs;
  return left >= 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local clock time, `14:03:22`. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time, `2026-01-17 14:03`. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
