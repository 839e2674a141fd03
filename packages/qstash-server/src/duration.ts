import { badRequest } from "./errors.ts";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * Parses a QStash duration (`10s`, `1m`, `2h`, `10d`, `1d10h30m`, `500ms`; a bare number means
 * seconds) into milliseconds.
 * @throws QStashServerError 400 naming `field` when the value is not a duration.
 */
export function parseDurationMs(value: string, field: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)
    ? [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)]
    : [];
  if (parts.length === 0) {
    throw badRequest(`${field}: "${value}" is not a duration (e.g. 10s, 5m, 2h, 1d10h30m)`);
  }
  let seconds = 0;
  for (const [, amount, unit] of parts)
    seconds += Number(amount) * (UNIT_SECONDS[unit ?? "s"] ?? 1);
  return Math.round(seconds * 1000);
}
