import { Redis, type Requester } from "@upstash/redis";

/**
 * The SDK's `Redis` over a given `Requester`, with the SDK's auto-pipelining (concurrent calls
 * batched into one `/pipeline` request) that its constructor enables only for its own HTTP client.
 * `autoPipeline()` is the SDK's protected method for exactly this, used as a subclass may.
 */
export class AutoPipelinedRedis extends Redis {
  constructor(requester: Requester) {
    super(requester);
    return this.autoPipeline();
  }
}
