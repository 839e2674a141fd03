import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  redisAnswers,
  startRedisServer,
  startTcpProxy,
  type RedisServerHandle,
  type TcpProxy,
} from "../src/index.ts";

/** Sends one inline command over a fresh socket and resolves with the first reply chunk. */
async function ask(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1", () => socket.write(`${command}\r\n`));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error("no answer within 5 s"));
    });
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString());
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("connection closed without an answer")));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("freePort", () => {
  it("returns a port nothing listens on", async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    expect(await redisAnswers("127.0.0.1", port, 200)).toBe(false);
  });
});

describe("startRedisServer", () => {
  let server: RedisServerHandle;

  beforeAll(async () => {
    server = await startRedisServer();
  });

  afterAll(async () => {
    await server.stop();
  });

  it("answers on its own port, never 6379", async () => {
    expect(server.port).not.toBe(6379);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(await ask(server.port, "PING")).toBe("+PONG\r\n");
  });

  it("stop() ends its own process by pid; start() brings it back on the same port", async () => {
    const pid = server.pid;
    expect(pid).toBeTypeOf("number");
    await server.stop();
    expect(server.pid).toBeUndefined();
    expect(alive(pid as number)).toBe(false);
    expect(await redisAnswers("127.0.0.1", server.port, 200)).toBe(false);
    await server.stop();

    await server.start();
    expect(server.pid).toBeTypeOf("number");
    expect(server.pid).not.toBe(pid);
    expect(await ask(server.port, "PING")).toBe("+PONG\r\n");
  });

  it("stop({ hard: true }) kills it (SIGKILL)", async () => {
    const pid = server.pid as number;
    await server.stop({ hard: true });
    expect(alive(pid)).toBe(false);
    await server.start();
    expect(await redisAnswers("127.0.0.1", server.port)).toBe(true);
  });

  it("fails clearly when the binary does not exist", async () => {
    await expect(startRedisServer({ binary: "/nonexistent/redis-server" })).rejects.toThrow(
      /Cannot start \/nonexistent\/redis-server/,
    );
  });
});

describe("startTcpProxy", () => {
  let server: RedisServerHandle;
  let proxy: TcpProxy;

  beforeAll(async () => {
    server = await startRedisServer();
    proxy = await startTcpProxy(server.port);
  });

  afterAll(async () => {
    await proxy.close();
    await server.stop();
  });

  it("forwards to the target", async () => {
    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(await ask(proxy.port, "ECHO hello")).toBe("$5\r\nhello\r\n");
  });

  it("delays with setLatency and keeps the byte order when the latency drops", async () => {
    const socket = connect(proxy.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let received = "";
    const complete = new Promise<void>((resolve) => {
      socket.on("data", (data) => {
        received += data.toString();
        if (received.split("\r\n").length > 2 * 2) resolve();
      });
    });
    proxy.setLatency(300);
    socket.write("ECHO first\r\n");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toBe("");
    proxy.setLatency(0);
    socket.write("ECHO second\r\n");
    await complete;
    socket.destroy();
    expect(received).toBe("$5\r\nfirst\r\n$6\r\nsecond\r\n");
  });

  it("cut() drops open connections and refuses new ones; restore() accepts again", async () => {
    const socket = connect(proxy.port, "127.0.0.1");
    // One round trip first: the proxy has then surely accepted (and tracks) this connection.
    await new Promise<void>((resolve) => {
      socket.once("data", () => resolve());
      socket.write("PING\r\n");
    });
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    proxy.cut();
    await closed;
    await expect(ask(proxy.port, "PING")).rejects.toThrow(/closed without an answer|ECONNRESET/);
    expect(await redisAnswers("127.0.0.1", proxy.port, 300)).toBe(false);
    proxy.restore();
    expect(await ask(proxy.port, "PING")).toBe("+PONG\r\n");
  });

  it("dropReplies(n): the command runs, its answer is dropped with the connection, then answers flow again", async () => {
    const key = `harness:drop:${Date.now()}`;
    proxy.dropReplies(1);
    await expect(ask(proxy.port, `INCR ${key}`)).rejects.toThrow(
      /closed without an answer|ECONNRESET/,
    );
    expect(await ask(server.port, `GET ${key}`)).toBe("$1\r\n1\r\n");
    expect(await ask(proxy.port, `INCR ${key}`)).toBe(":2\r\n");
    proxy.dropReplies();
    await expect(ask(proxy.port, "PING")).rejects.toThrow(/closed without an answer|ECONNRESET/);
    proxy.restore();
    expect(await ask(proxy.port, "PING")).toBe("+PONG\r\n");
  });
});
