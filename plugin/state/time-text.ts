/**
 * Short time phrases for the views, from an injected `now` so they are pure and testable:
 * a lease countdown, a clock time, and how long ago something happened.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Time left until `untilIso`: `45m left`, `2h 05m left`, `3d 4h left`, `<1m left`, or `expired`.
 * Null when there is no deadline (a PR under review holds no expiring lease).
 */
export function countdownText(untilIso: string | null | undefined, now: number): string | null {
  if (!untilIso) return null;
  const left = Date.parse(untilIso) - now;
  if (left <= 0) return 'expired';
  if (left < MINUTE) return '<1m left';
  if (left < HOUR) return `${Math.floor(left / MINUTE)}m left`;
  if (left < DAY) {
    const minutes = Math.floor((left % HOUR) / MINUTE);
    return `${Math.floor(left / HOUR)}h ${String(minutes).padStart(2, '0')}m left`;
  }
  return `${Math.floor(left / DAY)}d ${Math.floor((left % DAY) / HOUR)}h left`;
}

/** Whether a deadline has passed. */
export function isPast(iso: string | null | undefined, now: number): boolean {
  return !!iso && Date.parse(iso) <= now;
}

/** `12:30` in the local time zone (24-hour clock, as the activity feed shows times). */
export function clockTime(iso: string): string {
  const date = new Date(iso);
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
}

/** `just now`, `5m ago`, `3h ago`, `2d ago`, or `never`. */
export function agoText(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const ago = now - Date.parse(iso);
  if (ago < MINUTE) return 'just now';
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)}m ago`;
  if (ago < DAY) return `${Math.floor(ago / HOUR)}h ago`;
  return `${Math.floor(ago / DAY)}d ago`;
}

/** How long something took: `45s`, `40m`, `1h 05m`, `2d 3h` (the analytics' medians). */
export function spanText(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < MINUTE) return `${Math.round(abs / 1000)}s`;
  if (abs < HOUR) return `${Math.floor(abs / MINUTE)}m`;
  if (abs < DAY) {
    const minutes = Math.floor((abs % HOUR) / MINUTE);
    return `${Math.floor(abs / HOUR)}h ${String(minutes).padStart(2, '0')}m`;
  }
  return `${Math.floor(abs / DAY)}d ${Math.floor((abs % DAY) / HOUR)}h`;
}
