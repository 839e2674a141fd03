import { ConfigError } from "./errors.ts";

/** 10 seconds: near-real-time data (stream status). */
export const TTL_REALTIME = 10;
/** 1 minute. */
export const TTL_SHORT = 60;
/** 5 minutes. */
export const TTL_MEDIUM = 300;
/** 1 hour. */
export const TTL_LONG = 3600;
/** 1 day. */
export const TTL_EXTENDED = 86_400;
/** 1 week. */
export const TTL_WEEK = 604_800;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** A duration unit accepted by {@link parseDurationMs}. */
export type DurationUnit = keyof typeof UNIT_MS;
/** A duration string such as `"10s"`, `"5 m"`, `"1h"`, `"250ms"` (the `@upstash/ratelimit` syntax). */
export type Duration = `${number}${DurationUnit}` | `${number} ${DurationUnit}`;

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s?(ms|s|m|h|d|w)$/;

/** True when `value` is a well-formed {@link Duration}. */
export function isDuration(value: string): value is Duration {
  return DURATION_PATTERN.test(value.trim());
}

/**
 * Parses a duration string into milliseconds.
 * @example parseDurationMs("5m") // 300000
 * @throws ConfigError CONFIG_INVALID_DURATION for anything else.
 */
export function parseDurationMs(value: string): number {
  const match = DURATION_PATTERN.exec(value.trim());
  if (!match) {
    throw new ConfigError(
      "CONFIG_INVALID_DURATION",
      `Invalid duration "${value}": expected a number and a unit (ms, s, m, h, d, w), e.g. "10s" or "5 m".`,
    );
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as DurationUnit];
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigError(
      "CONFIG_INVALID_DURATION",
      `Invalid duration "${value}": it must be positive.`,
    );
  }
  return ms;
}

/**
 * Parses a duration string into whole seconds (rounded up, at least 1).
 * @example parseDurationSeconds("5m") // 300
 */
export function parseDurationSeconds(value: string): number {
  return Math.max(1, Math.ceil(parseDurationMs(value) / 1000));
}
