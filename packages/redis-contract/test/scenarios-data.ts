import { list, settle, sorted, within, type ScenarioTable } from "./scenario-support.ts";

/** Contract scenarios of the data types: strings, TTL, counters, hashes, lists, sets, sorted sets. */
export const DATA_TYPE_SCENARIOS: ScenarioTable = {
  "strings: set nx/xx/get, getdel, mset/mget, append, objects": {
    async run(redis, key) {
      const a = key("a");
      return [
        await redis.set(a, "v1"),
        await redis.get(a),
        await redis.set(a, "v2", { nx: true }),
        await redis.set(key("missing"), "x", { xx: true }),
        await redis.get(key("missing")),
        await redis.set(a, "v3", { xx: true }),
        await redis.set(a, "v4", { get: true }),
        await redis.getdel(a),
        await redis.getdel(a),
        await redis.mset({ [key("m1")]: "one", [key("m2")]: 2 }),
        await redis.mget(key("m1"), key("m2"), key("nope")),
        await redis.append(key("m1"), "!"),
        await redis.strlen(key("m1")),
        await redis.getrange(key("m1"), 0, 1),
        await redis.setnx(key("m1"), "z"),
        await redis.set(key("obj"), { a: 1, b: [true, null, "OK"] }),
        await redis.get(key("obj")),
        await redis.set(key("ok"), "OK"),
        await redis.get(key("ok")),
        await redis.mget(key("ok"), key("ok")),
      ];
    },
    expected: [
      "OK",
      "v1",
      null,
      null,
      null,
      "OK",
      "v3",
      "v4",
      null,
      "OK",
      ["one", 2, null],
      4,
      4,
      "on",
      0,
      "OK",
      { a: 1, b: [true, null, "OK"] },
      "OK",
      "OK",
      ["OK", "OK"],
    ],
  },

  "TTL: set ex/px, setex, expire, ttl, pttl, persist, getex": {
    async run(redis, key) {
      const t = key("t");
      const missing = key("missing");
      const out: Record<string, unknown> = {};
      await redis.set(t, "x", { ex: 100 });
      out.ttlAfterEx = within(await redis.ttl(t), 98, 100);
      await redis.set(t, "x", { px: 100_000 });
      out.pttlAfterPx = within(await redis.pttl(t), 90_000, 100_000);
      out.setex = await redis.setex(key("sx"), 50, "y");
      out.ttlAfterSetex = within(await redis.ttl(key("sx")), 48, 50);
      out.expire = await redis.expire(t, 200);
      out.ttlAfterExpire = within(await redis.ttl(t), 198, 200);
      out.expireMissing = await redis.expire(missing, 10);
      out.ttlMissing = await redis.ttl(missing);
      out.pttlMissing = await redis.pttl(missing);
      out.persist = await redis.persist(t);
      out.ttlPersisted = await redis.ttl(t);
      out.persistAgain = await redis.persist(t);
      out.pexpire = await redis.pexpire(t, 5000);
      out.pttlAfterPexpire = within(await redis.pttl(t), 4000, 5000);
      out.getex = await redis.getex(t, { ex: 300 });
      out.ttlAfterGetex = within(await redis.ttl(t), 298, 300);
      out.setNoTtl = await redis.set(key("plain"), 1);
      out.ttlNoExpiry = await redis.ttl(key("plain"));
      out.keepTtl = await redis.set(t, "y", { keepTtl: true });
      out.ttlKept = within(await redis.ttl(t), 298, 300);
      return out;
    },
    expected: {
      ttlAfterEx: true,
      pttlAfterPx: true,
      setex: "OK",
      ttlAfterSetex: true,
      expire: 1,
      ttlAfterExpire: true,
      expireMissing: 0,
      ttlMissing: -2,
      pttlMissing: -2,
      persist: 1,
      ttlPersisted: -1,
      persistAgain: 0,
      pexpire: 1,
      pttlAfterPexpire: true,
      getex: "x",
      ttlAfterGetex: true,
      setNoTtl: "OK",
      ttlNoExpiry: -1,
      keepTtl: "OK",
      ttlKept: true,
    },
  },

  "counters: incr/decr/incrby/decrby/incrbyfloat, errors, integers beyond 2^53": {
    async run(redis, key) {
      const c = key("c");
      const big = key("big");
      return [
        await redis.incr(c),
        await redis.incrby(c, 10),
        await redis.decr(c),
        await redis.decrby(c, 3),
        await redis.incrbyfloat(c, 1.5),
        await redis.get(c),
        await redis.set(key("s"), "abc"),
        await settle(redis.incr(key("s"))),
        await redis.set(big, "9007199254740991"),
        await redis.incr(big),
        // 2^53 + 1 is not a JS double: the reply number rounds the same way on both transports,
        // the stored string stays exact (the SDK keeps strings whose numeric form would differ).
        await redis.incr(big),
        await redis.get(big),
        await redis.incrby(key("neg"), -5),
        await settle(redis.incrby(key("huge"), 2)),
        await redis.set(key("max"), "9223372036854775807"),
        await settle(redis.incr(key("max"))),
        await redis.get(key("max")),
      ];
    },
    expected: [
      1,
      11,
      10,
      7,
      8.5,
      8.5,
      "OK",
      { error: "ERR value is not an integer or out of range" },
      "OK",
      9_007_199_254_740_992,
      9_007_199_254_740_992,
      "9007199254740993",
      -5,
      { result: 2 },
      "OK",
      { error: "ERR increment or decrement would overflow" },
      "9223372036854775807",
    ],
  },

  "hashes: hset/hget/hgetall/hmget/hincrby/hdel/hexists/hkeys/hvals/hlen/hsetnx": {
    async run(redis, key) {
      const h = key("h");
      return list(
        await redis.hset(h, { f1: "a", f2: 2, f3: { x: 1 } }),
        await redis.hget(h, "f1"),
        await redis.hget(h, "f2"),
        await redis.hgetall(h),
        await redis.hmget(h, "f1", "nope"),
        await redis.hincrby(h, "n", 5),
        await redis.hincrbyfloat(h, "fl", 0.5),
        await redis.hexists(h, "f1"),
        await redis.hdel(h, "f1", "zz"),
        await redis.hexists(h, "f1"),
        await redis.hkeys(h),
        await redis.hvals(h),
        await redis.hlen(h),
        await redis.hsetnx(h, "f2", "x"),
        await redis.hsetnx(h, "f9", "x"),
        await redis.hstrlen(h, "f9"),
        await redis.hgetall(key("missing")),
        await settle(redis.hget(key("str"), "x")),
        await redis.set(key("str"), "s"),
        await settle(redis.hget(key("str"), "x")),
      );
    },
    expected: [
      3,
      "a",
      2,
      { f1: "a", f2: 2, f3: { x: 1 } },
      { f1: "a", nope: null },
      5,
      0.5,
      1,
      1,
      0,
      ["f2", "f3", "n", "fl"],
      [2, { x: 1 }, 5, 0.5],
      4,
      0,
      1,
      1,
      null,
      { result: null },
      "OK",
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
    ],
  },

  "lists: push/pop/range/index/set/insert/rem/trim/pos/move": {
    async run(redis, key) {
      const l = key("l");
      return list(
        await redis.rpush(l, "a", "b", "c"),
        await redis.lpush(l, "z"),
        await redis.lrange(l, 0, -1),
        await redis.lpop(l),
        await redis.rpop(l),
        await redis.llen(l),
        await redis.lindex(l, 0),
        await redis.lset(l, 0, "A"),
        await redis.linsert(l, "after", "A", "x"),
        await redis.lrange(l, 0, -1),
        await redis.lpos(l, "x"),
        await redis.lrem(l, 0, "x"),
        await redis.rpush(l, 1, 2, 3),
        await redis.lpop(l, 2),
        await redis.ltrim(l, 0, 1),
        await redis.lrange(l, 0, -1),
        await redis.lmove(l, key("l2"), "left", "right"),
        await redis.lrange(key("l2"), 0, -1),
        await redis.lpop(key("empty")),
        await redis.lrange(key("empty"), 0, -1),
      );
    },
    expected: [
      3,
      4,
      ["z", "a", "b", "c"],
      "z",
      "c",
      2,
      "a",
      "OK",
      3,
      ["A", "x", "b"],
      1,
      1,
      5,
      ["A", "b"],
      "OK",
      [1, 2],
      1,
      [1],
      null,
      [],
    ],
  },

  "sets: sadd/srem/sismember/smismember/smembers/scard/sinter/sunion/sdiff/smove": {
    async run(redis, key) {
      const s = key("s");
      const s2 = key("s2");
      return [
        await redis.sadd(s, "a", "b", "c"),
        await redis.sadd(s, "a"),
        await redis.sismember(s, "a"),
        await redis.sismember(s, "zz"),
        await redis.smismember(s, ["a", "zz"]),
        await redis.scard(s),
        await redis.srem(s, "c", "zz"),
        sorted(await redis.smembers(s)),
        await redis.sadd(s2, "b", "x"),
        await redis.sinter(s, s2),
        sorted(await redis.sunion(s, s2)),
        await redis.sdiff(s, s2),
        await redis.sinterstore(key("dst"), s, s2),
        await redis.smove(s, s2, "a"),
        sorted(await redis.smembers(s2)),
        await redis.smembers(key("missing")),
      ];
    },
    expected: [
      3,
      0,
      1,
      0,
      [1, 0],
      3,
      1,
      ["a", "b"],
      2,
      ["b"],
      ["a", "b", "x"],
      ["a"],
      1,
      1,
      ["a", "b", "x"],
      [],
    ],
  },

  "sorted sets: zadd options, zincrby, zrange rev/withscores/byscore, zrank, zrem, zremrange": {
    async run(redis, key) {
      const z = key("z");
      return [
        await redis.zadd(
          z,
          { score: 1, member: "a" },
          { score: 2, member: "b" },
          { score: 3, member: "c" },
        ),
        await redis.zadd(z, { nx: true }, { score: 10, member: "a" }),
        await redis.zadd(z, { xx: true, ch: true }, { score: 1.5, member: "a" }),
        await redis.zadd(z, { incr: true }, { score: 1, member: "a" }),
        await redis.zincrby(z, 2, "b"),
        await redis.zscore(z, "a"),
        await redis.zscore(z, "nope"),
        await redis.zrange(z, 0, -1),
        await redis.zrange(z, 0, -1, { withScores: true }),
        await redis.zrange(z, 0, -1, { rev: true }),
        await redis.zrange(z, 2, 3.5, { byScore: true }),
        await redis.zrange(z, "-inf", "+inf", { byScore: true, offset: 1, count: 1 }),
        await redis.zrange(z, "(2.5", "+inf", { byScore: true, withScores: true }),
        await redis.zrange(z, 4, 2, { byScore: true, rev: true }),
        await redis.zrank(z, "b"),
        await redis.zrevrank(z, "b"),
        await redis.zrank(z, "nope"),
        await redis.zcard(z),
        await redis.zcount(z, 3, "+inf"),
        await redis.zmscore(z, ["a", "nope"]),
        await redis.zrem(z, "a", "nope"),
        await redis.zadd(
          z,
          { score: 5, member: "d" },
          { score: 6, member: "e" },
          { score: 7, member: "f" },
        ),
        await redis.zremrangebyrank(z, 0, 0),
        await redis.zremrangebyscore(z, 6, 7),
        await redis.zrange(z, 0, -1, { withScores: true }),
        await redis.zadd(key("big"), { score: 2 ** 53, member: "m" }, { score: -0.5, member: "n" }),
        await redis.zrange(key("big"), 0, -1, { withScores: true }),
      ];
    },
    expected: [
      3,
      0,
      1,
      2.5,
      4,
      2.5,
      null,
      ["a", "c", "b"],
      ["a", 2.5, "c", 3, "b", 4],
      ["b", "c", "a"],
      ["a", "c"],
      ["c"],
      ["c", 3, "b", 4],
      ["b", "c", "a"],
      2,
      0,
      null,
      3,
      2,
      [2.5, null],
      1,
      3,
      1,
      2,
      ["b", 4, "d", 5],
      2,
      ["n", -0.5, "m", 9007199254740992],
    ],
  },
};
