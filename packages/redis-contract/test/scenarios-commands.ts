import { scriptSha1 } from "@hotpath/redis/internal";
import { redisMessage, scanAll, settle, sorted, type ScenarioTable } from "./scenario-support.ts";

/** Contract scenarios of scanning, key commands, pipelines, transactions, scripts and encodings. */
export const COMMAND_SCENARIOS: ScenarioTable = {
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
