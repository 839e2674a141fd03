import { hex } from "./wire.ts";

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, `undefined` members dropped,
 * Dates as ISO strings, BigInt as decimal strings. Two payloads that mean the same give the same text.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, seen: Set<unknown>): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return JSON.stringify(value.toString());
    case "object":
      break;
    case "function":
    case "symbol":
    case "undefined":
      return "null";
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (seen.has(value)) throw new TypeError("canonicalJson: circular structure");
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((item) => write(item, seen)).join(",")}]`;
    if (value instanceof Map) return write(Object.fromEntries(value), seen);
    if (value instanceof Set) return write([...value], seen);
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key], seen)}`).join(",")}}`;
  } finally {
    seen.delete(value);
  }
}

/** SHA-256 (hex) of the canonical JSON of `payload`: the idempotency payload fingerprint. */
export async function fingerprintPayload(payload: unknown): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonicalJson(payload)),
  );
  return hex(new Uint8Array(digest));
}
