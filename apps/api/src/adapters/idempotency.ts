import type { IdempotencyStore } from "@hotpath/cache";
import type { ApiIdempotency } from "../trpc/deps.ts";
import { fingerprint } from "./fingerprint.ts";

/**
 * Adapts an @hotpath/cache idempotency store: the scope is the principal, the fingerprint a
 * SHA-256 of the payload, and the store's abort signal (lease lost) reaches the handler.
 */
export function createApiIdempotency(store: IdempotencyStore): ApiIdempotency {
  return {
    async run({ key, scope, payload, handler }) {
      const print = await fingerprint(payload);
      return store.runIdempotent(key, print, (signal) => handler(signal), { principal: scope });
    },
  };
}
