import { Socket } from "node:net";

/** The real PostgreSQL the tests use when it answers (trust auth, database `test`). */
export const TEST_POSTGRES_URL =
  process.env.HOTPATH_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** True when something accepts TCP connections at the PostgreSQL test target. */
export async function postgresAnswers(timeoutMs = 500): Promise<boolean> {
  const url = new URL(TEST_POSTGRES_URL);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(Number(url.port || 5432), url.hostname, () => done(true));
  });
}
