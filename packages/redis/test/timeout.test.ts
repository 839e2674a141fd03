import { describe, expect, it } from "vitest";
import { RedisClientError } from "../src/errors.ts";
import { DeadlineSweeper, withTimeout } from "../src/timeout.ts";

const never = () => new Promise<never>(() => undefined);

describe("withTimeout", () => {
  it("settles as the promise does when it is in time", async () => {
    expect(await withTimeout(Promise.resolve(7), 1000)).toBe(7);
    await expect(withTimeout(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
    // A non-Error rejection (as a foreign library may produce) becomes an Error.
    const thenable = { then: (_: unknown, reject: (reason: unknown) => void) => reject("text") };
    const foreign = Promise.resolve(thenable as unknown as PromiseLike<never>);
    await expect(withTimeout(foreign, 1000)).rejects.toThrow("text");
  });

  it("rejects with a typed REDIS_TIMEOUT once the time is up", async () => {
    const outcome = withTimeout(never(), 20);
    await expect(outcome).rejects.toBeInstanceOf(RedisClientError);
    await expect(outcome).rejects.toMatchObject({
      code: "REDIS_TIMEOUT",
      message: "Redis did not answer within 20 ms",
    });
  });

  it("uses the caller's error (each package keeps its own error class)", async () => {
    class OwnError extends Error {}
    const outcome = withTimeout(never(), 10, { error: (ms) => new OwnError(`late after ${ms}`) });
    await expect(outcome).rejects.toBeInstanceOf(OwnError);
    await expect(outcome).rejects.toThrow("late after 10");
  });

  it("ms <= 0 disables the timeout (the promise itself is returned)", () => {
    const promise = Promise.resolve(1);
    expect(withTimeout(promise, 0)).toBe(promise);
  });

  it("a late rejection of the timed-out promise is observed (no unhandled rejection)", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      let fail: (error: Error) => void = () => undefined;
      const late = new Promise<never>((_, reject) => (fail = reject));
      await expect(withTimeout(late, 10)).rejects.toMatchObject({ code: "REDIS_TIMEOUT" });
      fail(new Error("late"));
      // Let the rejection travel through the microtask queue and one macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

/** Resolves after the event loop has gone through its I/O phase once. */
const ioTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("DeadlineSweeper (injected clock)", () => {
  it("fires exactly the due deadlines, one I/O turn later, and stops its timer when nothing is pending", async () => {
    let now = 1000;
    const sweeper = new DeadlineSweeper({ now: () => now });
    const fired: string[] = [];
    sweeper.watch(100, () => fired.push("a"));
    const cancelB = sweeper.watch(200, () => fired.push("b"));
    sweeper.watch(300, () => fired.push("c"));
    expect(sweeper.running).toBe(true);
    now = 1099;
    sweeper.sweep();
    await ioTurn();
    expect(fired).toEqual([]);
    now = 1100;
    sweeper.sweep();
    expect(fired).toEqual([]);
    await ioTurn();
    expect(fired).toEqual(["a"]);
    cancelB();
    now = 1250;
    sweeper.sweep();
    await ioTurn();
    expect(fired).toEqual(["a"]);
    expect(sweeper.pending).toBe(1);
    now = 1300;
    sweeper.sweep();
    await ioTurn();
    expect(fired).toEqual(["a", "c"]);
    expect(sweeper.pending).toBe(0);
    expect(sweeper.running).toBe(false);
  });

  it("a reply already received when an overdue deadline is swept wins over the timeout (event-loop lag)", async () => {
    let now = 0;
    const sweeper = new DeadlineSweeper({ now: () => now });
    let answer: (value: string) => void = () => undefined;
    const outcome = withTimeout(new Promise<string>((resolve) => (answer = resolve)), 500, {
      sweeper,
    });
    // The process was busy past the deadline; the reply came in meanwhile and is read in the
    // same event-loop turn as the sweep.
    now = 800;
    sweeper.sweep();
    answer("PONG");
    await expect(outcome).resolves.toBe("PONG");
  });

  it("withTimeout on its own sweeper: rejects when the injected clock passes the deadline", async () => {
    let now = 0;
    const sweeper = new DeadlineSweeper({ now: () => now });
    const outcome = withTimeout(never(), 500, { sweeper });
    now = 499;
    sweeper.sweep();
    now = 500;
    sweeper.sweep();
    await expect(outcome).rejects.toMatchObject({ code: "REDIS_TIMEOUT" });
  });
});
