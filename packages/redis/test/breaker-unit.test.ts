import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../src/breaker.ts";
import { RedisClientError } from "../src/errors.ts";

const down = () => new RedisClientError("REDIS_UNAVAILABLE", "Redis is unavailable: ECONNREFUSED");
const slow = () => new RedisClientError("REDIS_TIMEOUT", "Redis did not answer within 100 ms");
const commandError = () => new Error("WRONGTYPE Operation against a key holding the wrong kind");

/** Waits until `check()` holds (polling), failing after a generous deadline. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("CircuitBreaker", () => {
  it("opens on a connection failure and then refuses without calling", async () => {
    const breaker = new CircuitBreaker(() => Promise.reject(down()), { probeIntervalMs: 60_000 });
    await expect(breaker.run(() => Promise.reject(down()))).rejects.toMatchObject({
      code: "REDIS_UNAVAILABLE",
    });
    expect(breaker.state).toBe("open");
    let calls = 0;
    const refused = breaker.run(() => {
      calls += 1;
      return Promise.resolve("sent");
    });
    await expect(refused).rejects.toBeInstanceOf(RedisClientError);
    await expect(refused).rejects.toMatchObject({
      code: "REDIS_UNAVAILABLE",
      message: expect.stringMatching(
        /not sent: the circuit is open since .*ECONNREFUSED/,
      ) as unknown,
    });
    expect(calls).toBe(0);
    breaker.stop();
  });

  it("a timeout counts as a connection failure", async () => {
    const breaker = new CircuitBreaker(() => Promise.reject(slow()), { probeIntervalMs: 60_000 });
    await expect(breaker.run(() => Promise.reject(slow()))).rejects.toThrow(/did not answer/);
    expect(breaker.state).toBe("open");
    breaker.stop();
  });

  it("command errors (WRONGTYPE, Lua errors) never open it", async () => {
    const breaker = new CircuitBreaker(() => Promise.resolve("PONG"));
    for (let i = 0; i < 5; i += 1)
      await expect(breaker.run(() => Promise.reject(commandError()))).rejects.toThrow(/WRONGTYPE/);
    expect(breaker.state).toBe("closed");
    expect(await breaker.run(() => Promise.resolve(1))).toBe(1);
  });

  it("opens only after failureThreshold failures in a row; a success resets the count", async () => {
    const breaker = new CircuitBreaker(() => Promise.reject(down()), {
      failureThreshold: 3,
      probeIntervalMs: 60_000,
    });
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    await breaker.run(() => Promise.resolve("ok"));
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    expect(breaker.state).toBe("closed");
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    expect(breaker.state).toBe("open");
    breaker.stop();
  });

  it("probes one at a time while open and closes on the first probe that gets through", async () => {
    let redisUp = false;
    let probes = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const breaker = new CircuitBreaker(
      async () => {
        probes += 1;
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 15));
        inFlight -= 1;
        if (!redisUp) throw down();
        return "PONG";
      },
      { probeIntervalMs: 2 },
    );
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    await until(() => probes >= 3, "three probes while down");
    expect(breaker.state).toBe("open");
    redisUp = true;
    await until(() => breaker.state === "closed", "closed after a successful probe");
    expect(maxInFlight).toBe(1);
    expect(await breaker.run(() => Promise.resolve("sent"))).toBe("sent");
    breaker.stop();
  });

  it("a call sent before the outage, failing after a probe closed the breaker, does not open it again", async () => {
    let redisUp = false;
    const breaker = new CircuitBreaker(
      () => (redisUp ? Promise.resolve("PONG") : Promise.reject(down())),
      {
        probeIntervalMs: 2,
      },
    );
    // Sent while closed; its timeout is still running when the outage is seen and when it ends.
    let failLate: (error: unknown) => void = () => undefined;
    const late = breaker.run(() => new Promise((_, reject) => (failLate = reject)));
    late.catch(() => undefined);
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    expect(breaker.state).toBe("open");
    redisUp = true;
    await until(() => breaker.state === "closed", "closed after a successful probe");
    failLate(slow());
    await expect(late).rejects.toMatchObject({ code: "REDIS_TIMEOUT" });
    expect(breaker.state).toBe("closed");
    // A call sent after the close still counts.
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    expect(breaker.state).toBe("open");
    breaker.stop();
  });

  it("a probe answered with a command error means Redis is reachable: closes", async () => {
    const breaker = new CircuitBreaker(() => Promise.reject(commandError()), {
      probeIntervalMs: 2,
    });
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    await until(() => breaker.state === "closed", "closed");
  });

  it("stop() ends probing and never opens again", async () => {
    let probes = 0;
    const breaker = new CircuitBreaker(
      () => {
        probes += 1;
        return Promise.reject(down());
      },
      { probeIntervalMs: 2 },
    );
    breaker.stop();
    await breaker.run(() => Promise.reject(down())).catch(() => undefined);
    expect(breaker.state).toBe("closed");
    expect(probes).toBe(0);
  });
});
