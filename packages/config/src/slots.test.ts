import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_SLOT_COUNT,
  ConfigError,
  KEY_WILDCARD,
  buildKey,
  guardSlots,
  hashTag,
  isHashTag,
  keyPattern,
  keySlot,
} from "./index.ts";

// Any text, biased towards braces and separators (what could move or break a tag).
const part = fc.oneof(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.stringMatching(/^[{}:a-z%*]{1,8}$/),
  fc.integer({ min: 0 }),
);

describe("hashTag", () => {
  it("renders one {…} segment of escaped parts", () => {
    expect(buildKey("hotpath", "lock", hashTag("job", 7))).toBe("hotpath:lock:{job:7}");
    expect(buildKey("hotpath", "cache", "user", "v", hashTag("a}b{c"))).toBe(
      "hotpath:cache:user:v:{a%7Db%7Bc}",
    );
    expect(buildKey("hotpath", "lock", hashTag("job", 7), "fence")).toBe(
      "hotpath:lock:{job:7}:fence",
    );
    expect(isHashTag(hashTag("x"))).toBe(true);
    expect(isHashTag("x")).toBe(false);
  });

  it("refuses an empty tag, two tags in one key, and a wildcard outside patterns", () => {
    expect(() => hashTag()).toThrow(ConfigError);
    expect(() => buildKey("a", "lock", hashTag("x"), hashTag("y"))).toThrow(/at most one hash tag/);
    expect(() => buildKey("a", "lock", hashTag("x", KEY_WILDCARD))).toThrow(/patterns only/);
    expect(keyPattern("a", "cache", "ns", "v", hashTag("user", KEY_WILDCARD))).toBe(
      "a:cache:ns:v:{user:*}",
    );
  });

  it("property: keys built with the same tag share a slot whatever else they hold", () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 3 }), part, part, (tagParts, a, b) => {
        const tag = hashTag(...tagParts);
        const one = buildKey("app1", "cache", a, hashTag(...tagParts));
        const two = buildKey("app-2", "lock", tag, b, "fence");
        expect(keySlot(one)).toBe(keySlot(two));
      }),
      { numRuns: 500 },
    );
  });
});

describe("keySlot", () => {
  it("agrees with the Redis Cluster specification", () => {
    // From the Redis documentation of CLUSTER KEYSLOT and the cluster spec's hash tag rules.
    expect(keySlot("somekey")).toBe(11058);
    expect(keySlot("foo")).toBe(12182);
    expect(keySlot("{user1000}.following")).toBe(keySlot("{user1000}.followers"));
    expect(keySlot("foo{bar}{zap}")).toBe(keySlot("bar"));
    expect(keySlot("foo{}{bar}")).not.toBe(keySlot("bar"));
    expect(keySlot("foo{{bar}}zap")).toBe(keySlot("{bar"));
  });

  it("property: always a slot in range", () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        const slot = keySlot(key);
        expect(slot >= 0 && slot < CLUSTER_SLOT_COUNT).toBe(true);
      }),
    );
  });
});

describe("guardSlots", () => {
  it("returns the common slot, or undefined for no keys", () => {
    const keys = [buildKey("a", "lock", hashTag("j")), buildKey("a", "count", hashTag("j"))];
    expect(guardSlots("lock.acquire", keys)).toBe(keySlot(keys[0] as string));
    expect(guardSlots("nothing", [])).toBeUndefined();
  });

  it("throws a typed error naming the operation, every key and its slot", () => {
    const keys = ["hotpath:cache:ns:v:{k}", "hotpath:cache:ns:g"];
    let caught: unknown;
    try {
      guardSlots("cache.read", keys);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe("CONFIG_CROSS_SLOT");
    expect(error.message).toContain("cache.read");
    expect(error.issues).toEqual(
      keys.map((key) => ({ field: key, message: `slot ${keySlot(key)}` })),
    );
  });
});
