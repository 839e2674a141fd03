import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { L1Store } from "../src/l1.ts";
import { decodeEntry, defaultSerializer, encodeEntry, utf8Length } from "../src/serializer.ts";
import { parseIdempotencyKey, IdempotencyKeyError } from "../src/index.ts";

describe("entry envelope", () => {
  it("round-trips any payload and rejects malformed text", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.integer({ min: 0, max: 10_000 }),
        (payload, fresh, extra) => {
          const entry = {
            kind: "v" as const,
            payload,
            freshUntil: fresh,
            staleUntil: fresh + extra,
            loadMs: 3,
          };
          expect(decodeEntry(encodeEntry(entry))).toEqual(entry);
        },
      ),
    );
    expect(decodeEntry("H1|12|x|0|v|a")).toBeUndefined();
    expect(decodeEntry("H1|12|13|0|q|a")).toBeUndefined();
    expect(decodeEntry('{"json":1}')).toBeUndefined();
    expect(decodeEntry("H1|12")).toBeUndefined();
  });

  it("the default serializer keeps rich types and takes the JSON fast path for plain values", () => {
    const rich = {
      d: new Date(5),
      m: new Map([[1, "a"]]),
      s: new Set(["x"]),
      b: 10n ** 20n,
      u: undefined,
    };
    expect(defaultSerializer.deserialize(defaultSerializer.serialize(rich))).toEqual(rich);
    expect(defaultSerializer.serialize({ a: [1, "x", null] })).toBe('j{"a":[1,"x",null]}');
    expect(() => defaultSerializer.deserialize("zzz")).toThrow();
  });

  it("measures UTF-8 bytes", () => {
    expect(utf8Length("abc")).toBe(3);
    expect(utf8Length("é")).toBe(2);
    expect(utf8Length("€")).toBe(3);
    expect(utf8Length("😀")).toBe(4);
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
    );
  });
});

describe("L1 store", () => {
  const entry = (bytes: number) => ({
    value: bytes,
    negative: false,
    freshUntil: 0,
    staleUntil: 0,
    l1Until: 0,
    bytes,
  });
  it("evicts the least recently used entries beyond maxEntries and maxBytes", () => {
    const store = new L1Store({ maxEntries: 3, maxBytes: 100 });
    store.set("a", entry(10));
    store.set("b", entry(10));
    store.set("c", entry(10));
    store.get("a");
    store.set("d", entry(10));
    expect(store.peek("b")).toBeUndefined();
    expect(store.peek("a")).toBeDefined();
    store.set("e", entry(90));
    expect(store.bytes).toBeLessThanOrEqual(100);
    expect(store.peek("e")).toBeDefined();
    store.set("huge", entry(1000));
    expect(store.peek("huge")).toBeUndefined();
    expect([store.peek("a"), store.peek("c")]).toEqual([undefined, undefined]);
    expect(store.peek("d")).toBeDefined();
    store.deleteWhere((key) => key === "e");
    expect(store.size).toBe(1);
    store.clear();
    expect([store.size, store.bytes]).toEqual([0, 0]);
  });
});

describe("Idempotency-Key parsing", () => {
  it("accepts 1..255 printable ASCII (structured-field strings unquoted), refuses the rest", () => {
    expect(parseIdempotencyKey("abc")).toBe("abc");
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe(
      "8e03978e-40d5-43e8-bc93-6894a57f9324",
    );
    for (const bad of [null, undefined, "", "  ", "x".repeat(256), "\u00e9", "a\nb"]) {
      expect(() => parseIdempotencyKey(bad)).toThrow(IdempotencyKeyError);
    }
  });
});
