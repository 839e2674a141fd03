/**
 * Locale-aware formatting for every number, ratio, size and time the dashboard shows.
 * All functions take the locale explicitly (default: the browser's) so tests and the e2e run are
 * deterministic, and formatters are cached per locale because `Intl` constructors are not free.
 */

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>();

function memo<T extends Intl.NumberFormat | Intl.DateTimeFormat | Intl.RelativeTimeFormat>(
  key: string,
  make: () => T,
): T {
  const hit = cache.get(key);
  if (hit) return hit as T;
  const made = make();
  cache.set(key, made);
  return made;
}

/** Placeholder shown where a value is unknown (no data yet, division by zero). */
export const NO_VALUE = "–";

/** A whole count with grouping separators: `12,345` (en-US), `12 345` (fr-FR). */
export function formatCount(value: number, locale?: string): string {
  return memo(
    `count:${locale ?? ""}`,
    () => new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
  ).format(value);
}

/** A count in compact notation for chart axes: `1.2K`, `3.4M`. */
export function formatCompact(value: number, locale?: string): string {
  return memo(
    `compact:${locale ?? ""}`,
    () => new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 }),
  ).format(value);
}

/** A 0–1 ratio as a percentage with one decimal (`87.5%`); {@link NO_VALUE} when unknown. */
export function formatRatio(value: number | null | undefined, locale?: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return memo(
    `ratio:${locale ?? ""}`,
    () =>
      new Intl.NumberFormat(locale, {
        style: "percent",
        minimumFractionDigits: 1,
        maximumFractionDigits: 1,
      }),
  ).format(value);
}

const BYTE_UNITS = ["byte", "kilobyte", "megabyte", "gigabyte", "terabyte"] as const;

/** A size in bytes with a binary step (1 KB = 1024 B) and a locale unit name: `1.5 kB`, `12 byte`. */
export function formatBytes(bytes: number, locale?: string): string {
  if (!Number.isFinite(bytes) || bytes < 0) return NO_VALUE;
  let unitIndex = 0;
  let value = bytes;
  while (value >= 1024 && unitIndex < BYTE_UNITS.length - 1) {
    value /= 1024;
    unitIndex += 1;
  }
  const unit = BYTE_UNITS[unitIndex] ?? "byte";
  return memo(
    `bytes:${unit}:${locale ?? ""}`,
    () =>
      new Intl.NumberFormat(locale, {
        style: "unit",
        unit,
        unitDisplay: "short",
        maximumFractionDigits: unit === "byte" ? 0 : 1,
      }),
  ).format(value);
}

/** A latency in milliseconds: `0.8 ms`, `12 ms`; {@link NO_VALUE} when unknown. */
export function formatLatency(ms: number | null | undefined, locale?: string): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return NO_VALUE;
  return memo(
    `latency:${ms < 10 ? "fine" : "coarse"}:${locale ?? ""}`,
    () =>
      new Intl.NumberFormat(locale, {
        style: "unit",
        unit: "millisecond",
        unitDisplay: "short",
        maximumFractionDigits: ms < 10 ? 1 : 0,
      }),
  ).format(ms);
}

/** A money amount (tips) in the given currency: `$12.50`. */
export function formatMoney(amount: number, currency = "USD", locale?: string): string {
  return memo(
    `money:${currency}:${locale ?? ""}`,
    () => new Intl.NumberFormat(locale, { style: "currency", currency }),
  ).format(amount);
}

/** Wall-clock time of a chart bucket: `14:05` (24 h ranges add the day only when it changes is up to the caller). */
export function formatClock(epochMs: number, locale?: string, withSeconds = false): string {
  return memo(
    `clock:${withSeconds ? "s" : "m"}:${locale ?? ""}`,
    () =>
      new Intl.DateTimeFormat(locale, {
        hour: "2-digit",
        minute: "2-digit",
        ...(withSeconds ? { second: "2-digit" } : {}),
      }),
  ).format(epochMs);
}

/** Full date and time, for tooltips and `title` attributes. */
export function formatDateTime(epochMs: number, locale?: string): string {
  return memo(
    `datetime:${locale ?? ""}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }),
  ).format(epochMs);
}

/**
 * How long ago something happened, in the largest fitting unit: `now`, `5 seconds ago`, `2 minutes ago`.
 * @param elapsedMs milliseconds since the event (negative values count as 0).
 */
export function formatAgo(elapsedMs: number, locale?: string): string {
  const seconds = Math.max(0, Math.floor(elapsedMs / 1000));
  const rtf = memo(
    `ago:${locale ?? ""}`,
    () => new Intl.RelativeTimeFormat(locale, { numeric: "auto" }),
  );
  if (seconds < 60) return rtf.format(-seconds, "second");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return rtf.format(-minutes, "minute");
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return rtf.format(-hours, "hour");
  return rtf.format(-Math.floor(hours / 24), "day");
}

/** A signed rank movement for leaderboards: `▲ 2`, `▼ 1`, `new`, or `–` for no change. */
export function formatRankChange(change: number | null, locale?: string): string {
  if (change === null) return "new";
  if (change === 0) return NO_VALUE;
  const magnitude = formatCount(Math.abs(change), locale);
  return change > 0 ? `▲ ${magnitude}` : `▼ ${magnitude}`;
}
