import type { Requester, UpstashRequest, UpstashResponse } from "@upstash/redis";
import { CircuitBreaker, type BreakerOptions } from "./breaker.ts";

/**
 * A `Requester` that sends every request through a {@link CircuitBreaker}: while Redis is
 * unreachable, requests fail at once; a PING on the underlying requester probes for its return.
 */
export class GuardedRequester implements Requester {
  readonly #inner: Requester;
  /** The breaker (its `state` tells whether requests are refused). */
  readonly breaker: CircuitBreaker;

  constructor(inner: Requester, options: BreakerOptions = {}) {
    this.#inner = inner;
    this.breaker = new CircuitBreaker(() => inner.request({ body: ["ping"] }), options);
  }

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    return this.breaker.run(() => this.#inner.request<TResult>(req));
  }
}
