import { ConfigError, buildKey, hashTag, keySlot } from "@hotpath/config";
import { TRANSPORTS, deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rejection } from "./scenario-support.ts";

const SCRIPT = "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[1]); return 1";

describe.each(TRANSPORTS)(
  "guardSlots over %s: what a cluster refuses is refused before sending",
  (transport) => {
    let redis: HotpathRedis;
    // Unguarded: checks and cleanup (a multi-key EXISTS or UNLINK would be refused on the other).
    let plain: HotpathRedis;
    const app = uniquePrefix("slots");
    // Two keys of one entity (one tag), and a key of another entity (another slot).
    const a = buildKey(app, "lock", hashTag("job", 1));
    const fence = buildKey(app, "count", hashTag("job", 1), "fence");
    let other = buildKey(app, "lock", hashTag("job", 2));
    for (let n = 3; keySlot(other) === keySlot(a); n += 1)
      other = buildKey(app, "lock", hashTag("job", n));

    beforeAll(() => {
      redis = openTestRedis(transport, { guardSlots: true });
      plain = openTestRedis(transport);
    });
    afterAll(async () => {
      await deletePrefix(plain, `${app}:`);
      await Promise.all([redis.close(), plain.close()]);
    });

    it("a script over keys of two slots is refused with a CROSSSLOT error naming the keys, and nothing runs", async () => {
      const error = await rejection(() => redis.eval(SCRIPT, [a, other], ["x"]));
      expect(error.message).toMatch(/^CROSSSLOT /);
      expect(error.message).toContain(a);
      expect(error.message).toContain(other);
      expect(error.cause).toBeInstanceOf(ConfigError);
      expect((error.cause as ConfigError).code).toBe("CONFIG_CROSS_SLOT");
      expect(await plain.exists(a, other)).toBe(0);
      expect(await redis.eval(SCRIPT, [a, fence], ["y"])).toBe(1);
      expect(await redis.get(fence)).toBe("y");
    });

    it("a MULTI over two slots is refused; one spanning one tag runs; a pipeline may span slots", async () => {
      const tx = redis.multi();
      tx.set(a, "1");
      tx.set(other, "1");
      expect((await rejection(() => tx.exec())).message).toMatch(/^CROSSSLOT MULTI \(set, set\)/);
      const ok = redis.multi();
      ok.set(a, "2");
      ok.set(fence, "3");
      expect(await ok.exec()).toEqual(["OK", "OK"]);
      const pipe = redis.pipeline();
      pipe.get(a);
      pipe.get(other);
      expect(await pipe.exec()).toEqual([2, null]);
    });

    it("multi-key commands: MGET and DEL over two slots are refused, over one tag they run", async () => {
      expect((await rejection(() => redis.mget(a, other))).message).toMatch(/^CROSSSLOT mget/);
      expect((await rejection(() => redis.del(a, other))).message).toMatch(/^CROSSSLOT del/);
      expect(await redis.mget(a, fence)).toEqual([2, 3]);
    });

    it("off by default: the same script runs on a single Redis", async () => {
      expect(await plain.eval(SCRIPT, [a, other], ["z"])).toBe(1);
    });
  },
);
