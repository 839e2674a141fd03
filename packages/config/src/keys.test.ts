import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CACHE_PREFIX,
  ConfigError,
  KEY_AREAS,
  KEY_WILDCARD,
  buildKey,
  createKeyspace,
  escapeKeyPart,
  keyPattern,
  unescapeKeyPart,
  type KeyArea,
} from "./index.ts";

// Characters that would add a segment, a glob metacharacter, a hash tag or an escape.
const FORBIDDEN_IN_PART = /[:*?[\]{}\\]/;
const GLOB = /[*?[\]\\]/g;

// Biased towards the characters that matter, plus any UTF-16 code unit (incl. lone surrogates).
const hostileChar = fc.oneof(
  fc.constantFrom(
    ":",
    "*",
    "?",
    "[",
    "]",
    "{",
    "}",
    "%",
    "\\",
    " ",
    "\t",
    "\n",
    "\u00A0",
    "\u3000",
    "\uFEFF",
    "\u2028",
    "%3A",
    "%u3000",
  ),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.string({
    unit: fc.nat({ max: 0xffff }).map((code) => String.fromCharCode(code)),
    minLength: 1,
    maxLength: 1,
  }),
);
const hostilePart = fc
  .array(hostileChar, { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(""));
const area = fc.constantFrom(...KEY_AREAS);

describe("escapeKeyPart / unescapeKeyPart", () => {
  it("escape the documented characters", () => {
    expect(escapeKeyPart("a:b*")).toBe("a%3Ab%2A");
    expect(escapeKeyPart("x?[y]{z}")).toBe("x%3F%5By%5D%7Bz%7D");
    expect(escapeKeyPart("100%")).toBe("100%25");
    expect(escapeKeyPart("a b\\c")).toBe("a%20b%5Cc");
    expect(escapeKeyPart("a\u3000b")).toBe("a%u3000b");
    expect(escapeKeyPart(42)).toBe("42");
    expect(escapeKeyPart(2n ** 70n)).toBe("1180591620717411303424");
    expect(escapeKeyPart("émoji😀")).toBe("émoji😀");
  });

  it("rejects an empty part", () => {
    expect(() => escapeKeyPart("")).toThrow(ConfigError);
    expect(() => buildKey("hotpath", "cache", "")).toThrow(/must not be empty/);
  });

  it("property: no input can add a segment, a glob, a brace or whitespace; unescape round-trips", () => {
    fc.assert(
      fc.property(hostilePart, (part) => {
        const escaped = escapeKeyPart(part);
        expect(escaped).not.toMatch(FORBIDDEN_IN_PART);
        expect(escaped).not.toMatch(/\s/);
        expect(unescapeKeyPart(escaped)).toBe(part);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: escaping is injective (distinct parts never collide)", () => {
    fc.assert(
      fc.property(hostilePart, hostilePart, (a, b) => {
        fc.pre(a !== b);
        expect(escapeKeyPart(a)).not.toBe(escapeKeyPart(b));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("buildKey", () => {
  it("builds <app>:<area>:<parts…>", () => {
    expect(buildKey("hotpath", "cache", CACHE_PREFIX.user, 42)).toBe("hotpath:cache:user:42");
    expect(buildKey("hotpath", "rl", "tips:quick", "u1")).toBe("hotpath:rl:tips%3Aquick:u1");
  });

  it("rejects an app prefix that could add a segment, a glob or a hash tag", () => {
    for (const app of ["", "a:b", "a*", "a b", "a?", "a[1]", "{hotpath}", "a{b"]) {
      expect(() => buildKey(app, "cache", "x"), app).toThrow(/Invalid app prefix/);
    }
  });

  it("property: the key has exactly 2 + parts segments and each part reads back", () => {
    fc.assert(
      fc.property(
        area,
        fc.array(hostilePart, { minLength: 1, maxLength: 5 }),
        (keyArea: KeyArea, parts) => {
          const key = buildKey("hotpath", keyArea, ...parts);
          const segments = key.split(":");
          expect(segments).toHaveLength(2 + parts.length);
          expect(segments.slice(0, 2)).toEqual(["hotpath", keyArea]);
          expect(segments.slice(2).map(unescapeKeyPart)).toEqual(parts);
          expect(key).not.toMatch(GLOB);
          expect(key.slice("hotpath".length)).not.toMatch(/[{}]/);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("keyPattern", () => {
  it("turns KEY_WILDCARD into * and escapes literal parts", () => {
    expect(keyPattern("hotpath", "cache", "user", KEY_WILDCARD)).toBe("hotpath:cache:user:*");
    expect(keyPattern("hotpath", "lb", "a*b", KEY_WILDCARD, "c?")).toBe("hotpath:lb:a%2Ab:*:c%3F");
  });

  it("property: the only glob characters are the wildcards asked for", () => {
    const partOrWildcard = fc.oneof(hostilePart, fc.constant(KEY_WILDCARD));
    fc.assert(
      fc.property(
        area,
        fc.array(partOrWildcard, { minLength: 1, maxLength: 5 }),
        (keyArea: KeyArea, parts) => {
          const pattern = keyPattern("hotpath", keyArea, ...parts);
          const wildcards = parts.filter((p) => p === KEY_WILDCARD).length;
          expect(pattern.match(GLOB) ?? []).toEqual(Array<string>(wildcards).fill("*"));
          expect(pattern.split(":")).toHaveLength(2 + parts.length);
          // A pattern without wildcards is exactly the key.
          if (wildcards === 0)
            expect(pattern).toBe(buildKey("hotpath", keyArea, ...(parts as string[])));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("createKeyspace", () => {
  it("binds the app prefix", () => {
    const keys = createKeyspace("shop");
    expect(keys.app).toBe("shop");
    expect(keys.key("idem", "user:1", "k*")).toBe("shop:idem:user%3A1:k%2A");
    expect(keys.pattern("session", KEY_WILDCARD)).toBe("shop:session:*");
    expect(createKeyspace().key("count", "x")).toBe("hotpath:count:x");
  });

  it("validates the prefix once, up front", () => {
    expect(() => createKeyspace("bad:prefix")).toThrow(ConfigError);
  });

  it("lists the documented areas and cache prefixes", () => {
    expect(KEY_AREAS).toEqual([
      "cache",
      "lock",
      "idem",
      "rl",
      "count",
      "session",
      "lb",
      "feed",
      "metrics",
    ]);
    expect(Object.values(CACHE_PREFIX)).toEqual([
      "user",
      "session",
      "config",
      "api",
      "model",
      "gen",
      "image",
      "video",
      "status",
    ]);
  });
});
