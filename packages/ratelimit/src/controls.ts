import type { Redis } from "@upstash/redis";
import { z } from "zod";
import { RateLimitError } from "./errors.ts";
import { errorMessage, withTimeout } from "./guard.ts";
import { parseClientAddress } from "./ip.ts";
import { denyListKey, overridesKey } from "./keys.ts";

/** A per-identifier override: a multiplier of every policy's limit, and/or exact limits per policy. */
export interface RateLimitOverride {
  /** Multiplies each policy's limit (and token-bucket refill), e.g. 10 for a partner. */
  multiplier?: number;
  /** Exact limits by policy name (win over `multiplier`). */
  limits?: Record<string, number>;
}

const overrideSchema = z
  .object({
    multiplier: z.number().positive().max(1_000_000).optional(),
    limits: z.record(z.string(), z.number().int().positive()).optional(),
  })
  .strict();

/** What to put on (or take off) the deny list: an identifier or a client IP. */
export type DenyListEntry = { identifier: string; ip?: never } | { ip: string; identifier?: never };

/** Options of {@link LimitControls}. */
export interface LimitControlsOptions {
  redis: Redis;
  app: string;
  /** How long the in-memory copy is used before it is re-read (in the background). @default 5000 */
  refreshMs: number;
  timeoutMs: number;
  onError: (operation: string, error: unknown) => void;
  /** False while Redis is known to be down: skip background refreshes. */
  redisUsable: () => boolean;
}

function denyMember(entry: DenyListEntry): string {
  if (entry.identifier !== undefined) {
    if (entry.identifier.length === 0)
      throw new RateLimitError("RATELIMIT_INVALID_INPUT", "identifier: must not be empty");
    return `id:${entry.identifier}`;
  }
  const parsed = parseClientAddress(entry.ip);
  if (!parsed)
    throw new RateLimitError("RATELIMIT_INVALID_INPUT", `ip: "${entry.ip}" is not an IP address`);
  return `ip:${parsed.group}`;
}

/**
 * The deny list and per-identifier overrides: stored in Redis (a set and a hash) so they change
 * at runtime without a redeploy, and read cheaply — each instance holds a copy in memory and
 * re-reads both with one pipelined round trip every `refreshMs`, off the critical path.
 */
export class LimitControls {
  readonly #options: LimitControlsOptions;
  #denied = new Set<string>();
  #overrides = new Map<string, RateLimitOverride>();
  #loadedAt = Number.NEGATIVE_INFINITY;
  #firstLoad: Promise<void> | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(options: LimitControlsOptions) {
    this.#options = options;
  }

  /** Resolves once a first copy was read (or the read failed: then nothing is denied/overridden). */
  ready(): Promise<void> | undefined {
    if (this.#loadedAt !== Number.NEGATIVE_INFINITY) return undefined;
    this.#firstLoad ??= this.load().finally(() => {
      this.#firstLoad = undefined;
    });
    return this.#firstLoad;
  }

  /** Starts a background re-read when the copy is older than `refreshMs`; returns it (never rejects). */
  refreshIfStale(now = Date.now()): Promise<void> | undefined {
    if (
      this.#refreshing ||
      now - this.#loadedAt < this.#options.refreshMs ||
      !this.#options.redisUsable()
    )
      return undefined;
    this.#refreshing = this.load().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Which value of the request is denied, if any (`ipGroup`: an IP group from getRateLimitIdentifier, or an address). */
  deniedBy(identifier: string, ipGroup: string | undefined): "identifier" | "ip" | undefined {
    if (this.#denied.size === 0) return undefined;
    if (this.#denied.has(`id:${identifier}`)) return "identifier";
    if (ipGroup !== undefined) {
      // Accepts a raw address too ("2001:db8::1" matches an entry for its /64).
      const group = parseClientAddress(ipGroup)?.group ?? ipGroup;
      if (this.#denied.has(`ip:${group}`)) return "ip";
    }
    return undefined;
  }

  /** The override of an identifier, if any. */
  override(identifier: string): RateLimitOverride | undefined {
    return this.#overrides.size === 0 ? undefined : this.#overrides.get(identifier);
  }

  /** Adds to the deny list (in Redis and in this instance's copy at once). */
  async deny(entry: DenyListEntry): Promise<void> {
    const member = denyMember(entry);
    await this.write(
      "denyList.add",
      this.#options.redis.sadd(denyListKey(this.#options.app), member),
    );
    this.#denied.add(member);
  }

  /** Removes from the deny list. */
  async undeny(entry: DenyListEntry): Promise<void> {
    const member = denyMember(entry);
    await this.write(
      "denyList.remove",
      this.#options.redis.srem(denyListKey(this.#options.app), member),
    );
    this.#denied.delete(member);
  }

  /** Members of the deny list as stored (`id:<identifier>`, `ip:<ip group>`). */
  async listDenied(): Promise<string[]> {
    const members = await this.write(
      "denyList.list",
      this.#options.redis.smembers(denyListKey(this.#options.app)),
    );
    return members.map(String).sort();
  }

  /**
   * Sets an identifier's override.
   * @throws RateLimitError RATELIMIT_INVALID_INPUT naming the bad field.
   */
  async setOverride(identifier: string, override: RateLimitOverride): Promise<void> {
    const parsed = overrideSchema.safeParse(override);
    if (!parsed.success || identifier.length === 0) {
      const issue = parsed.error?.issues[0];
      throw new RateLimitError(
        "RATELIMIT_INVALID_INPUT",
        identifier.length === 0
          ? "identifier: must not be empty"
          : `override.${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`,
        { cause: parsed.error },
      );
    }
    await this.write(
      "overrides.set",
      this.#options.redis.hset(overridesKey(this.#options.app), {
        [identifier]: JSON.stringify(parsed.data),
      }),
    );
    this.#overrides.set(identifier, parsed.data);
  }

  /** Removes an identifier's override. */
  async removeOverride(identifier: string): Promise<void> {
    await this.write(
      "overrides.remove",
      this.#options.redis.hdel(overridesKey(this.#options.app), identifier),
    );
    this.#overrides.delete(identifier);
  }

  /** Every override as stored (invalid entries left out). */
  async listOverrides(): Promise<Record<string, RateLimitOverride>> {
    const raw = await this.write(
      "overrides.list",
      this.#options.redis.hgetall(overridesKey(this.#options.app)),
    );
    return Object.fromEntries(this.parseOverrides(raw));
  }

  private async write<T>(operation: string, promise: Promise<T>): Promise<T> {
    try {
      return await withTimeout(promise, this.#options.timeoutMs, operation);
    } catch (error) {
      throw new RateLimitError(
        "RATELIMIT_STORE_ERROR",
        `${operation} failed: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }

  private parseOverrides(raw: Record<string, unknown> | null): Map<string, RateLimitOverride> {
    const overrides = new Map<string, RateLimitOverride>();
    for (const [identifier, value] of Object.entries(raw ?? {})) {
      let candidate = value;
      if (typeof candidate === "string") {
        try {
          candidate = JSON.parse(candidate) as unknown;
        } catch {
          // Left as is: the schema rejects it below.
        }
      }
      const parsed = overrideSchema.safeParse(candidate);
      if (parsed.success) overrides.set(identifier, parsed.data);
      else
        this.#options.onError(
          "overrides.parse",
          new Error(`override of "${identifier}": ${parsed.error.message}`),
        );
    }
    return overrides;
  }

  private async load(): Promise<void> {
    const { redis, app, timeoutMs } = this.#options;
    try {
      const [members, overrides] = await withTimeout(
        redis
          .pipeline()
          .smembers(denyListKey(app))
          .hgetall(overridesKey(app))
          .exec<[unknown[], Record<string, unknown> | null]>(),
        timeoutMs,
        "controls refresh",
      );
      this.#denied = new Set(members.map(String));
      this.#overrides = this.parseOverrides(overrides);
    } catch (error) {
      this.#options.onError("controls.refresh", error);
    } finally {
      this.#loadedAt = Date.now();
    }
  }
}
