import type { HotpathRedis } from "@hotpath/redis";
import { scriptSha1 } from "@hotpath/redis/internal";

/** Builds the keys of one scenario run (each run has its own prefix). */
export type KeyOf = (name: string) => string;

/** One contract scenario: the same code runs on every transport; its result must be the same. */
export type Scenario = (redis: HotpathRedis, key: KeyOf, prefix: string) => Promise<unknown>;

/** The Redis error text inside an SDK error, without the transport-specific framing. */
export function redisMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message
    .replace(/^Command failed: /, "")
    .replace(/^Command \d+ \[ [^\]]+ \] failed: /, "")
    .replace(/, command was: [\s\S]*$/, "");
}

/** Settles a call to `{ result }` or `{ error: <Redis message> }` so errors compare as data. */
export async function settle<T>(call: Promise<T>): Promise<{ result: T } | { error: string }> {
  try {
    return { result: await call };
  } catch (error) {
    return { error: redisMessage(error) };
  }
}

const list = (...items: unknown[]): unknown[] => items;
const within = (value: number, min: number, max: number) => value >= min && value <= max;
const sorted = <T>(items: readonly T[]) => [...items].map(String).sort();

async function scanAll(redis: HotpathRedis, match: string, type?: string): Promise<string[]> {
  const found = new Set<string>();
  let cursor: string | number = "0";
  // The shared Redis may hold any number of other tests' keys: scan until the cursor is back at 0.
  for (let round = 0; round < 100_000; round += 1) {
    const [next, keys]: [string | number, string[]] = await redis.scan(cursor, {
      match,
      count: 1000,
      ...(type ? { type } : {}),
    });
    for (const key of keys) found.add(key);
    cursor = next;
    if (String(cursor) === "0") break;
  }
  return [...found].sort();
}

/** Every command family of the contract, with the result each must produce on every transport. */
export const SCENARIOS: Record<string, { run: Scenario; expected: unknown }> = {
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

  "scan/sscan/hscan/zscan with match and count": {
    async run(redis, key, prefix) {
      for (let i = 0; i < 25; i += 1) await redis.set(key(`s:${i}`), i);
      await redis.set(key("other"), 1);
      const fields: Record<string, number> = {};
      for (let i = 0; i < 150; i += 1) fields[i % 2 === 0 ? `even${i}` : `odd${i}`] = i;
      await redis.hset(key("h"), fields);
      await redis.sadd(key("set"), ...(Object.keys(fields) as [string, ...string[]]));
      for (let i = 0; i < 150; i += 1)
        await redis.zadd(key("z"), { score: i, member: i % 2 === 0 ? `even${i}` : `odd${i}` });

      const collect = async (
        page: (cursor: string | number) => Promise<[string | number, (string | number)[]]>,
      ): Promise<(string | number)[]> => {
        const all: (string | number)[] = [];
        let cursor: string | number = 0;
        for (let round = 0; round < 200; round += 1) {
          const [next, items] = await page(cursor);
          all.push(...items);
          cursor = next;
          if (String(cursor) === "0") break;
        }
        return all;
      };
      const pairs = (items: (string | number)[]) => {
        const out: Record<string, string> = {};
        for (let i = 0; i + 1 < items.length; i += 2) out[String(items[i])] = String(items[i + 1]);
        return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
      };
      const strip = (keys: string[]) => keys.map((k) => k.slice(prefix.length));
      const scanned = strip(await scanAll(redis, `${prefix}:s:*`));
      const hashes = strip(await scanAll(redis, `${prefix}:*`, "hash"));
      const sscanned = sorted(
        await collect((c) => redis.sscan(key("set"), c, { match: "odd1*", count: 5 })),
      );
      const hscanned = pairs(
        await collect((c) => redis.hscan(key("h"), c, { match: "even1?", count: 5 })),
      );
      const zscanned = pairs(
        await collect((c) => redis.zscan(key("z"), c, { match: "odd*", count: 5 })),
      );
      return {
        scanned: scanned.length,
        first: scanned.slice(0, 3),
        hashes,
        sscanned: sscanned.length,
        hscanned,
        zscanned: Object.keys(zscanned).length,
        z11: zscanned.odd11,
      };
    },
    expected: {
      scanned: 25,
      first: [":s:0", ":s:1", ":s:10"],
      hashes: [":h"],
      sscanned: 31,
      hscanned: { even10: "10", even12: "12", even14: "14", even16: "16", even18: "18" },
      zscanned: 75,
      z11: "11",
    },
  },

  "keys: del/unlink/exists/type/rename/renamenx": {
    async run(redis, key) {
      await redis.set(key("a"), 1);
      await redis.set(key("b"), 2);
      await redis.hset(key("h"), { f: 1 });
      await redis.lpush(key("l"), 1);
      await redis.sadd(key("s"), 1);
      await redis.zadd(key("z"), { score: 1, member: "m" });
      return [
        await redis.exists(key("a"), key("b"), key("missing")),
        await Promise.all(
          ["a", "h", "l", "s", "z", "missing"].map((name) => redis.type(key(name))),
        ),
        await redis.rename(key("a"), key("c")),
        await redis.get(key("c")),
        await redis.exists(key("a")),
        await redis.renamenx(key("c"), key("b")),
        await settle(redis.rename(key("missing"), key("x"))),
        await redis.del(key("b"), key("c"), key("missing")),
        await redis.unlink(key("h"), key("l")),
        await redis.exists(key("h"), key("l"), key("s"), key("z")),
        await redis.del(key("missing")),
      ];
    },
    expected: [
      2,
      ["string", "hash", "list", "set", "zset", "none"],
      "OK",
      1,
      0,
      0,
      { error: "ERR no such key" },
      2,
      2,
      2,
      0,
    ],
  },

  "explicit pipeline: results in order, errors thrown or kept per item": {
    async run(redis, key) {
      const build = () => {
        const p = redis.pipeline();
        p.set(key("a"), 1);
        p.incr(key("a"));
        p.get(key("a"));
        p.hset(key("a"), { x: 1 });
        p.get(key("missing"));
        p.evalsha("ffffffffffffffffffffffffffffffffffffffff", [], []);
        return p;
      };
      const thrown = await settle(build().exec());
      const thrownText = await build()
        .exec()
        .then(
          () => "resolved",
          (error: unknown) => (error as Error).message,
        );
      const kept = await build().exec({ keepErrors: true });
      const plain = redis.pipeline().set(key("p"), "v").get(key("p")).del(key("p")).exec();
      return { thrown, thrownText, kept: kept.map((item) => ({ ...item })), plain: await plain };
    },
    expected: {
      thrown: { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
      thrownText:
        "Command 4 [ hset ] failed: WRONGTYPE Operation against a key holding the wrong kind of value",
      kept: [
        { result: "OK", error: undefined },
        { result: 2, error: undefined },
        { result: 2, error: undefined },
        {
          result: undefined,
          error: "WRONGTYPE Operation against a key holding the wrong kind of value",
        },
        { result: null, error: undefined },
        { result: undefined, error: "NOSCRIPT No matching script. Please use EVAL." },
      ],
      plain: ["OK", "v", 1],
    },
  },

  // REST auto-pipelining sends reads and writes in separate batches and some commands (hgetall,
  // scan, …) straight away, so concurrent calls are only ordered per key on TCP: the scenario
  // reads keys written before the batch and writes keys no concurrent call reads.
  "auto pipeline: concurrent commands, one failure does not affect the others": {
    async run(redis, key) {
      await redis.set(key("a"), "1");
      await redis.hset(key("h"), { x: 1, y: "two" });
      await redis.zadd(key("z"), { score: 1, member: "m" });
      const results = await Promise.allSettled([
        redis.incr(key("counter")),
        redis.get(key("a")),
        redis.hset(key("a"), { x: 1 }),
        redis.hgetall(key("h")),
        redis.hget(key("h"), "y"),
        redis.lpush(key("l"), "a", "b"),
        redis.sadd(key("s"), "m"),
        redis.zscore(key("z"), "m"),
        redis.zrange(key("z"), 0, -1, { withScores: true }),
        redis.get(key("missing")),
        redis.set(key("b"), "x", { ex: 60 }),
      ]);
      return results.map((r) =>
        r.status === "fulfilled" ? { result: r.value } : { error: redisMessage(r.reason) },
      );
    },
    expected: [
      { result: 1 },
      { result: 1 },
      { error: "WRONGTYPE Operation against a key holding the wrong kind of value" },
      { result: { x: 1, y: "two" } },
      { result: "two" },
      { result: 2 },
      { result: 1 },
      { result: 1 },
      { result: ["m", 1] },
      { result: null },
      { result: "OK" },
    ],
  },

  "multi/exec: atomic results, runtime error item, queue-time error aborts (EXECABORT)": {
    async run(redis, key) {
      const ok = await redis.multi().set(key("a"), "1").incr(key("a")).get(key("a")).exec();
      const runtime = await redis
        .multi()
        .set(key("b"), "x")
        .incr(key("b"))
        .get(key("b"))
        .exec({ keepErrors: true });
      const runtimeThrown = await settle(redis.multi().set(key("c"), "x").incr(key("c")).exec());
      const afterRuntime = await redis.get(key("c"));
      // `del()` with no key is refused when queued: Redis discards the whole transaction.
      const aborted = await settle(redis.multi().set(key("d"), "new").del().exec());
      const afterAbort = await redis.get(key("d"));
      return {
        ok,
        runtime: runtime.map((item) => ({ ...item })),
        runtimeThrown,
        afterRuntime,
        aborted,
        afterAbort,
      };
    },
    expected: {
      ok: ["OK", 2, 2],
      runtime: [
        { result: "OK", error: undefined },
        { result: undefined, error: "ERR value is not an integer or out of range" },
        { result: "x", error: undefined },
      ],
      runtimeThrown: { error: "ERR value is not an integer or out of range" },
      afterRuntime: "x",
      aborted: { error: "EXECABORT Transaction discarded because of previous errors." },
      afterAbort: null,
    },
  },

  "eval: nested replies, Lua conversions, big integers, status and error replies": {
    async run(redis, key) {
      return [
        await redis.eval(
          "return {1, 'OK', false, {2, 'x', {3, {}}}, 'a', redis.call('set', KEYS[1], ARGV[1])}",
          [key("a")],
          ["v"],
        ),
        await redis.eval(
          "return redis.call('incrby', KEYS[1], '9007199254740993')",
          [key("n")],
          [],
        ),
        await redis.eval("return 3.99", [], []),
        await redis.eval("return tostring(3.5)", [], []),
        await redis.eval("return true", [], []),
        await redis.eval("return false", [], []),
        await redis.eval("return nil", [], []),
        await redis.eval("return redis.status_reply('PONG')", [], []),
        await redis.eval("return {redis.status_reply('OK'), redis.status_reply('QUEUED')}", [], []),
        await settle(redis.eval("return redis.error_reply('MYERR custom failure')", [], [])),
        await settle(redis.eval("return {1, redis.error_reply('inner failure')}", [], [])),
        await redis.evalRo("return redis.call('get', KEYS[1])", [key("a")], []),
        await redis.eval("return ARGV", [], ["1", "two", '{"j":1}', "null"]),
        (await redis.eval("#!lua flags=allow-key-locking\nreturn KEYS[1]", [key("k")], [])) ===
          key("k"),
      ];
    },
    expected: [
      [1, "OK", null, [2, "x", [3, []]], "a", "OK"],
      9_007_199_254_740_992,
      3,
      3.5,
      1,
      null,
      null,
      "PONG",
      ["OK", "QUEUED"],
      { error: "MYERR custom failure" },
      { result: [1, "inner failure"] },
      "v",
      [1, "two", { j: 1 }, null],
      true,
    ],
  },

  "evalsha/script load/script exists, NOSCRIPT then fallback": {
    async run(redis, key, prefix) {
      const text = `return {KEYS[1] == '${key("k")}' and 1 or 0, ARGV[1]} -- ${prefix}`;
      const missing = await settle(
        redis.evalsha("0123456789abcdef0123456789abcdef01234567", [], []),
      );
      const script = redis.createScript<[number, string]>(text);
      const sha = scriptSha1(text);
      const existsBefore = await redis.scriptExists(sha);
      const viaFallback = await script.exec([key("k")], ["hello"]);
      const existsAfter = await redis.scriptExists(sha, "0123456789abcdef0123456789abcdef01234567");
      const loaded = await redis.scriptLoad(text);
      const direct = await redis.evalsha(loaded, [key("k")], ["again"]);
      const shebang = `#!lua flags=allow-key-locking\nreturn 'locked' -- ${prefix}`;
      const loadedSha = loaded === sha;
      // The SDK's sha1 is of the text with the Upstash-only shebang; Redis never sees that text.
      const shebangSha = scriptSha1(shebang);
      const shebangLoaded = (await redis.scriptLoad(shebang)) === shebangSha;
      const shebangRun = await redis.evalsha(shebangSha, [], []);
      const shebangExists = await redis.scriptExists(shebangSha);
      const shebangViaScript = await redis.createScript<string>(`${shebang} again`).exec([], []);
      return {
        missing,
        existsBefore,
        viaFallback,
        existsAfter,
        direct,
        loadedSha,
        shebangLoaded,
        shebangRun,
        shebangExists,
        shebangViaScript,
      };
    },
    expected: {
      missing: { error: "NOSCRIPT No matching script. Please use EVAL." },
      existsBefore: [0],
      viaFallback: [1, "hello"],
      existsAfter: [1, 0],
      direct: [1, "again"],
      loadedSha: true,
      shebangLoaded: true,
      shebangRun: "locked",
      shebangExists: [1],
      shebangViaScript: "locked",
    },
  },

  "UTF-8 and binary values: emoji round-trip, invalid UTF-8 becomes U+FFFD": {
    async run(redis, key) {
      const text = "héllo 😀 ✓ 中文 \u0000 end";
      const emojiKey = key("ключ-🔑");
      const invalid = String.raw`'\255\254abc\240\159\152\128x\240\159\152y\192\175z\237\160\128'`;
      const allBytes =
        "local s = {} for i = 0, 255 do s[#s + 1] = string.char(i) end return redis.call('set', KEYS[1], table.concat(s))";
      return [
        await redis.set(emojiKey, text),
        await redis.get(emojiKey),
        await redis.strlen(emojiKey),
        await redis.hset(key("h"), { "🔥": "🧊" }),
        await redis.hgetall(key("h")),
        await redis.rpush(key("l"), "😀", "OK", "🚀"),
        await redis.lrange(key("l"), 0, -1),
        await redis.eval(`return redis.call('set', KEYS[1], ${invalid})`, [key("bad")], []),
        await redis.get(key("bad")),
        await redis.strlen(key("bad")),
        await redis.eval(`return {${invalid}, {${invalid}}}`, [], []),
        await redis.eval(allBytes, [key("bin")], []),
        await redis.strlen(key("bin")),
        await redis.get(key("bin")),
        await redis.getrange(key("bin"), 0, 9),
      ];
    },
    expected: (() => {
      const invalidBytes = new Uint8Array([
        255, 254, 97, 98, 99, 240, 159, 152, 128, 120, 240, 159, 152, 121, 192, 175, 122, 237, 160,
        128,
      ]);
      const decoded = new TextDecoder().decode(invalidBytes);
      const all = new TextDecoder().decode(Uint8Array.from({ length: 256 }, (_, i) => i));
      return [
        "OK",
        "héllo 😀 ✓ 中文 \u0000 end",
        28,
        1,
        { "🔥": "🧊" },
        3,
        ["😀", "OK", "🚀"],
        "OK",
        decoded,
        20,
        [decoded, [decoded]],
        "OK",
        256,
        all,
        "\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t",
      ];
    })(),
  },
};
