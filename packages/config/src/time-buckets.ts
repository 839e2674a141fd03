/**
 * UTC calendar buckets used in keys (daily and weekly leaderboards): one copy of the date math.
 * Pure functions of an epoch-ms time, no I/O.
 */

const DAY_MS = 86_400_000;

/** `YYYYMMDD` of a time (UTC): the key part of daily buckets. */
export function utcDayStamp(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replaceAll("-", "");
}

/**
 * The ISO 8601 week of a time (UTC): weeks start on Monday and belong to the year of their
 * Thursday, so 1 January may be in week 52/53 of the year before, 31 December in week 1.
 */
export function isoWeekOf(epochMs: number): { year: number; week: number } {
  const date = new Date(epochMs);
  const weekday = date.getUTCDay() || 7; // Monday = 1 … Sunday = 7
  const thursday = Date.UTC(
    date.getUTCFullYear(),
    date.getUTCMonth(),
    date.getUTCDate() + 4 - weekday,
  );
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.ceil(((thursday - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return { year, week };
}

/** The ISO week of a time as `<year><separator><ww>`: `2026W47` by default, `2026-W47` with `"-W"`. */
export function isoWeekStamp(epochMs: number, separator = "W"): string {
  const { year, week } = isoWeekOf(epochMs);
  return `${year}${separator}${String(week).padStart(2, "0")}`;
}
