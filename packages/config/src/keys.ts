import { ConfigError } from "./errors.ts";

/** The key areas of the one key scheme `<app>:<area>:<parts…>`. */
export const KEY_AREAS = [
  "cache",
  "lock",
  "idem",
  "rl",
  "count",
  "session",
  "lb",
  "feed",
  "metrics",
] as const;
/** One of {@link KEY_AREAS}. */
export type KeyArea = (typeof KEY_AREAS)[number];

/** Cache namespaces used by the product (the first part after `cache:`). */
export const CACHE_PREFIX = {
  user: "user",
  session: "session",
  config: "config",
  api: "api",
  model: "model",
  gen: "gen",
  image: "image",
  video: "video",
  status: "status",
} as const;
/** One of the values of {@link CACHE_PREFIX}. */
export type CachePrefix = (typeof CACHE_PREFIX)[keyof typeof CACHE_PREFIX];

/** The default application prefix. */
export const DEFAULT_APP = "hotpath";

/** A key part: user input is welcome, it is escaped. */
export type KeyPart = string | number | bigint;

/** Marks a wildcard segment in {@link keyPattern}. */
export const KEY_WILDCARD: unique symbol = Symbol("hotpath.key.wildcard");

// Characters that could add a segment, a glob or a cluster hash tag; `%` so the encoding is reversible.
const ESCAPED = /[%:*?[\]{}\\\s]/g;

/**
 * Escapes one key part so that it can never add a `:` segment, a glob metacharacter
 * (`* ? [ ]`), a backslash, a hash tag brace or whitespace: each becomes `%XX` (`%uXXXX` above U+00FF).
 * @example escapeKeyPart("a:b*") // "a%3Ab%2A"
 */
export function escapeKeyPart(part: KeyPart): string {
  const text = String(part);
  if (text.length === 0) {
    throw new ConfigError("CONFIG_INVALID_KEY", "A key part must not be empty.");
  }
  return text.replace(ESCAPED, escapeChar);
}

// `%XX` for code units up to 0xFF, `%uXXXX` above (Unicode whitespace such as U+3000): `u` is not
// a hex digit, so the two forms can never be confused and every escape reverses exactly.
function escapeChar(ch: string): string {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).toUpperCase();
  return code > 0xff ? `%u${hex.padStart(4, "0")}` : `%${hex.padStart(2, "0")}`;
}

/** Reverses {@link escapeKeyPart}. */
export function unescapeKeyPart(part: string): string {
  return part.replace(
    /%u([0-9A-F]{4})|%([0-9A-F]{2})/g,
    (_, wide: string | undefined, narrow: string | undefined) =>
      String.fromCharCode(Number.parseInt(wide ?? narrow ?? "", 16)),
  );
}

// No braces: a hash tag in the app prefix would put every key of the app in one cluster slot.
function checkPrefix(app: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(app)) {
    throw new ConfigError(
      "CONFIG_INVALID_KEY",
      `Invalid app prefix "${app}": use letters, digits, "_", "-", "." (hash tags go per entity, see hashTag()).`,
    );
  }
  return app;
}

const HASH_TAG: unique symbol = Symbol("hotpath.key.hashTag");

/**
 * A Redis Cluster hash tag segment `{<parts…>}` made by {@link hashTag}: every key built with the
 * same tag lands in the same cluster slot, so one script or MULTI may touch them together.
 */
export interface HashTag {
  /** The escaped parts joined by `:` (what goes between the braces). */
  readonly [HASH_TAG]: string;
  /** True when a part is {@link KEY_WILDCARD} (patterns only). */
  readonly wildcard: boolean;
}

/**
 * A hash tag for one entity (a cache entry, an identifier, a lock…): its parts are escaped, so
 * user input can never close the tag early; a key may carry at most one tag. Never tag a whole
 * app or area (that would put all of it on one node).
 * @example buildKey("hotpath", "lock", hashTag("job", 7)) // "hotpath:lock:{job:7}"
 */
export function hashTag(...parts: readonly (KeyPart | typeof KEY_WILDCARD)[]): HashTag {
  if (parts.length === 0) {
    throw new ConfigError("CONFIG_INVALID_KEY", "A hash tag needs at least one part.");
  }
  return {
    [HASH_TAG]: parts.map((p) => (p === KEY_WILDCARD ? "*" : escapeKeyPart(p))).join(":"),
    wildcard: parts.includes(KEY_WILDCARD),
  };
}

/** True for a value made by {@link hashTag}. */
export function isHashTag(value: unknown): value is HashTag {
  return typeof value === "object" && value !== null && HASH_TAG in value;
}

function renderParts(
  parts: readonly (KeyPart | HashTag | typeof KEY_WILDCARD)[],
  allowWildcards: boolean,
): string[] {
  let tags = 0;
  return parts.map((part) => {
    if (part === KEY_WILDCARD) return "*";
    if (!isHashTag(part)) return escapeKeyPart(part);
    tags += 1;
    if (tags > 1) {
      throw new ConfigError("CONFIG_INVALID_KEY", "A key carries at most one hash tag.");
    }
    if (part.wildcard && !allowWildcards) {
      throw new ConfigError("CONFIG_INVALID_KEY", "A wildcard hash tag is for patterns only.");
    }
    return `{${part[HASH_TAG]}}`;
  });
}

/**
 * Builds a key `<app>:<area>:<parts…>` with every part escaped; a {@link hashTag} part becomes
 * `{…}` (the key's cluster slot is then the tag's).
 * @example buildKey("hotpath", "cache", "user", 42) // "hotpath:cache:user:42"
 */
export function buildKey(
  app: string,
  area: KeyArea,
  ...parts: readonly (KeyPart | HashTag)[]
): string {
  return [checkPrefix(app), area, ...renderParts(parts, false)].join(":");
}

/**
 * Builds a SCAN/PSUBSCRIBE pattern: literal parts are escaped, {@link KEY_WILDCARD} becomes `*`
 * (also inside a {@link hashTag}). A trailing wildcard matches any number of further segments.
 * @example keyPattern("hotpath", "cache", "user", KEY_WILDCARD) // "hotpath:cache:user:*"
 */
export function keyPattern(
  app: string,
  area: KeyArea,
  ...parts: readonly (KeyPart | HashTag | typeof KEY_WILDCARD)[]
): string {
  return [checkPrefix(app), area, ...renderParts(parts, true)].join(":");
}

/** A key builder bound to one app prefix. */
export interface Keyspace {
  /** The app prefix (first segment). */
  readonly app: string;
  /** {@link buildKey} bound to this prefix. */
  key(area: KeyArea, ...parts: readonly (KeyPart | HashTag)[]): string;
  /** {@link keyPattern} bound to this prefix. */
  pattern(area: KeyArea, ...parts: readonly (KeyPart | HashTag | typeof KEY_WILDCARD)[]): string;
}

/**
 * Creates a {@link Keyspace} for one app prefix (tests use a unique prefix each).
 * @example const keys = createKeyspace("hotpath"); keys.key("lock", "job", id)
 */
export function createKeyspace(app: string = DEFAULT_APP): Keyspace {
  checkPrefix(app);
  return {
    app,
    key: (area, ...parts) => buildKey(app, area, ...parts),
    pattern: (area, ...parts) => keyPattern(app, area, ...parts),
  };
}
