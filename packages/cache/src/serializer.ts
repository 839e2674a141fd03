import superjson from "superjson";
import { CacheError } from "./errors.ts";

/** Turns values into strings and back. The default keeps Date, Map, Set, BigInt, undefined… (superjson). */
export interface Serializer {
  serialize(value: unknown): string;
  deserialize(text: string): unknown;
}

/**
 * The default serializer: superjson, with a fast path — values that are plain JSON are stored as
 * JSON (`j` + text) and read back with one `JSON.parse`; others as superjson (`s` + text).
 */
export const defaultSerializer: Serializer = {
  serialize(value) {
    const { json, meta } = superjson.serialize(value);
    return meta === undefined ? `j${JSON.stringify(json)}` : `s${JSON.stringify({ json, meta })}`;
  },
  deserialize(text) {
    const tag = text.charCodeAt(0);
    if (tag === 106 /* j */) return JSON.parse(text.slice(1)) as unknown;
    if (tag === 115 /* s */) {
      return superjson.deserialize(
        JSON.parse(text.slice(1)) as Parameters<typeof superjson.deserialize>[0],
      );
    }
    throw new SyntaxError("Unknown serialization tag");
  },
};

/** What an entry holds: a value, or the negative-cache sentinel (the loader returned null). */
export type EntryKind = "v" | "n";

/** A decoded cache entry. */
export interface Entry {
  kind: EntryKind;
  /** Serialized payload (empty for negative entries). */
  payload: string;
  /** Epoch ms until which the entry is fresh. */
  freshUntil: number;
  /** Epoch ms until which it may be served stale (stale-while-revalidate / grace). */
  staleUntil: number;
  /** How long the loader took (ms), for early probabilistic refresh. */
  loadMs: number;
}

const MAGIC = "H1|";

/**
 * Encodes an entry as one string: `H1|<freshUntil>|<staleUntil>|<loadMs>|<kind>|<payload>`, so one
 * GET (or script) returns value and metadata together, and Lua can read `freshUntil`.
 */
export function encodeEntry(entry: Entry): string {
  return `${MAGIC}${Math.round(entry.freshUntil)}|${Math.round(entry.staleUntil)}|${Math.round(entry.loadMs)}|${entry.kind}|${entry.payload}`;
}

/** Decodes {@link encodeEntry}; anything malformed is `undefined` (treated as a miss). */
export function decodeEntry(text: string): Entry | undefined {
  if (!text.startsWith(MAGIC)) return undefined;
  const a = text.indexOf("|", 3);
  const b = a < 0 ? -1 : text.indexOf("|", a + 1);
  const c = b < 0 ? -1 : text.indexOf("|", b + 1);
  const d = c < 0 ? -1 : text.indexOf("|", c + 1);
  if (d < 0) return undefined;
  const freshUntil = Number(text.slice(3, a));
  const staleUntil = Number(text.slice(a + 1, b));
  const loadMs = Number(text.slice(b + 1, c));
  const kind = text.slice(c + 1, d);
  if (
    !Number.isFinite(freshUntil) ||
    !Number.isFinite(staleUntil) ||
    (kind !== "v" && kind !== "n")
  )
    return undefined;
  return {
    kind,
    payload: text.slice(d + 1),
    freshUntil,
    staleUntil,
    loadMs: Number.isFinite(loadMs) ? loadMs : 0,
  };
}

/** UTF-8 byte length of a string (without allocating). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** Throws CACHE_VALUE_TOO_LARGE when `text` is over `maxBytes` (never truncates). */
export function assertSize(text: string, maxBytes: number, key: string): void {
  if (text.length * 3 <= maxBytes) return;
  const size = utf8Length(text);
  if (size > maxBytes) {
    throw new CacheError(
      "CACHE_VALUE_TOO_LARGE",
      `The value for "${key}" is ${size} bytes serialized, over the ${maxBytes}-byte limit (maxEntryBytes); it was not cached.`,
    );
  }
}

/** Serializes with `serializer`, wrapping failures as CACHE_SERIALIZATION. */
export function serializeValue(serializer: Serializer, value: unknown, key: string): string {
  try {
    return serializer.serialize(value);
  } catch (error) {
    throw new CacheError("CACHE_SERIALIZATION", `The value for "${key}" cannot be serialized.`, {
      cause: error,
    });
  }
}
