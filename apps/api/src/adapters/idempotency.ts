import type { IdempotencyStore } from "@hotpath/cache";
import { measureOperation } from "../latency/api-latency.ts";
import type { ApiIdempotency, ApiLatency } from "../trpc/deps.ts";
import { fingerprint } from "./fingerprint.ts";

/**
 * Adapts an @hotpath/cache idempotency store: the scope is the principal, the fingerprint a
 * SHA-256 of the payload, and the store's abort signal (lease lost) reaches the handler. The
 * claim (until the handler starts, or the replay / refusal) is timed as `idempotency_claim`
 * when `latency` is given.
 */
export function createApiIdempotency(
  store: IdempotencyStore,
  latency?: Pick<ApiLatency, "operation">,
): ApiIdempotency {
  return {
    async run({ key, scope, payload, handler }) {
      const print = await fingerprint(payload);
      return measureOperation(latency, "idempotency_claim", (done) =>
        store.runIdempotent(
          key,
          print,
          (signal) => {
            done();
            return handler(signal);
          },
          { principal: scope },
        ),
      );
    },
  };
}
