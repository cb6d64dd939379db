/**
 * The labels of a chart's time axis, one line each plus the date under the first tick and under
 * each tick that starts another day. uPlot's own labels put a whole date and time under the first
 * tick ("11/27/26 6:45am"), which ran into the next label on a pool a few minutes old.
 */
export interface TimeAxisFormats {
  /** A time of day to the minute: "6:45 AM" (en-US). */
  minutes: Intl.DateTimeFormat;
  /** A time of day to the second, for ticks less than a minute apart: "6:45:30 AM". */
  seconds: Intl.DateTimeFormat;
  /** A day, short: "Nov 27". */
  day: Intl.DateTimeFormat;
}

/** The formats in the reader's own locale and time zone, or in those given (for tests). */
export function timeAxisFormats(locale?: string, timeZone?: string): TimeAxisFormats {
  const zone = timeZone ? { timeZone } : {};
  return {
    minutes: new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit', ...zone }),
    seconds: new Intl.DateTimeFormat(locale, {
      hour: 'numeric',
      minute: '2-digit',
      second: '2-digit',
      ...zone,
    }),
    day: new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', ...zone }),
  };
}

/**
 * Labels for ticks at `splits` (seconds since the epoch, ascending) `increment` seconds apart:
 * days alone once ticks are a day or more apart; else the time, with the day under the first
 * tick and under each tick whose day differs from the one before.
 */
export function timeAxisLabels(
  splits: readonly number[],
  increment: number,
  formats: TimeAxisFormats,
): string[] {
  const dayOf = (seconds: number) => formats.day.format(seconds * 1000);
  if (increment >= 86_400) return splits.map(dayOf);
  const time = increment < 60 ? formats.seconds : formats.minutes;
  return splits.map((seconds, i) => {
    const day = dayOf(seconds);
    const newDay = i === 0 || day !== dayOf(splits[i - 1]!);
    return `${time.format(seconds * 1000)}${newDay ? `\n${day}` : ''}`;
  });
}
