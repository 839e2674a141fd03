import {
  BUCKET_MAP,
  ConfigError,
  DEFAULT_TIER,
  NAMED_LIMITERS,
  PLANS,
  RATE_LIMIT_TIERS,
  definePolicies,
  parseDurationMs,
  parseLimit,
  type RateLimitAlgorithm,
  type RateLimitPolicy,
  type RateLimitPolicyInput,
} from "@hotpath/config";
import { RateLimitError } from "./errors.ts";
import type { ResolvedPolicy } from "./types.ts";

/** A policy as configured: the typed object of `@hotpath/config`, or text such as `"5 per 1h"` / `"100/1m"`. */
export type PolicyInput = RateLimitPolicyInput | string;

/** Which policies one `limit()` call is held to. */
export interface PolicySelector {
  /** A policy name, or several (all must allow: e.g. `["burst", "daily"]`). */
  policy?: string | readonly string[];
  /** A route bucket (`"tips:quick"`): resolved through the bucket map to a tier. */
  bucket?: string;
  /** A plan (`"free"`, `"pro"`): its quota (`plan:<name>`) is checked too. */
  plan?: string;
}

/** Options of {@link createPolicyRegistry}. */
export interface PolicyRegistryOptions {
  /**
   * Extra or replaced policies by name. A text policy (`"5/1m"`) replacing a known one keeps its
   * algorithm and failure mode; a new text policy uses `defaultAlgorithm` and fails open.
   */
  policies?: Readonly<Record<string, PolicyInput>>;
  /** Extra bucket -> policy name(s) entries, over `BUCKET_MAP` of `@hotpath/config`. */
  buckets?: Readonly<Record<string, string | readonly string[]>>;
  /** Plans by name (registered as `plan:<name>`). @default PLANS */
  plans?: Readonly<Record<string, PolicyInput>>;
  /** Policy used for buckets the map does not list. @default DEFAULT_TIER ("moderate") */
  defaultPolicy?: string;
  /** Algorithm of text policies. @default "slidingWindow" */
  defaultAlgorithm?: RateLimitAlgorithm;
}

/** Named policies, the bucket map and plans, resolved once. */
export interface PolicyRegistry {
  /** Every policy by name. */
  readonly policies: ReadonlyMap<string, ResolvedPolicy>;
  /** The policies a call is held to (deduplicated, in a stable order). */
  resolve(selector: PolicySelector): readonly ResolvedPolicy[];
  /** {@link resolve} plus a key naming the set (`burst+daily`); memoised, for the hot path. */
  select(selector: PolicySelector): PolicySet;
  /** One policy by name. @throws RateLimitError RATELIMIT_UNKNOWN_POLICY */
  get(name: string): ResolvedPolicy;
}

/** The policies of one call and a stable key naming the set. */
export interface PolicySet {
  readonly policies: readonly ResolvedPolicy[];
  /** Policy names joined with `+`. */
  readonly key: string;
}

const POLICY_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Turns one configured policy into a {@link ResolvedPolicy}. A text policy (`"5/1m"`) takes
 * `defaultAlgorithm` and fails open, unless `replaces` is given: then it keeps the algorithm and
 * failure mode of the policy it replaces (text changes the limit and window only).
 * @throws RateLimitError RATELIMIT_INVALID_POLICY naming the policy and what is wrong.
 */
export function resolvePolicy(
  name: string,
  input: PolicyInput | RateLimitPolicy,
  defaultAlgorithm: RateLimitAlgorithm = "slidingWindow",
  replaces?: Pick<ResolvedPolicy, "algorithm" | "failure">,
): ResolvedPolicy {
  if (!POLICY_NAME.test(name)) {
    throw new RateLimitError(
      "RATELIMIT_INVALID_POLICY",
      `Invalid policy name "${name}": use 1-64 letters, digits, "_", ".", ":" or "-".`,
    );
  }
  try {
    let policy: RateLimitPolicy;
    if (typeof input === "string") {
      const { limit, window } = parseLimit(input);
      const kept = replaces ?? { algorithm: defaultAlgorithm, failure: "open" as const };
      policy = definePolicies({
        [name]: { limit, window, algorithm: kept.algorithm, failure: kept.failure },
      })[name] as RateLimitPolicy;
    } else {
      policy = definePolicies({ [name]: input })[name] as RateLimitPolicy;
    }
    const windowMs = Math.round(parseDurationMs(policy.window));
    if (windowMs < 1)
      throw new ConfigError("CONFIG_INVALID_DURATION", `window of "${name}" is under 1 ms`);
    return {
      name,
      limit: policy.limit,
      windowMs,
      algorithm: policy.algorithm,
      refillRate: policy.refillRate ?? policy.limit,
      failure: policy.failure,
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new RateLimitError(
      "RATELIMIT_INVALID_POLICY",
      `Invalid rate-limit policy "${name}": ${detail}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Builds the registry: `NAMED_LIMITERS` (API, GENERATION, AUTH, PUBLIC), the tiers (strict,
 * moderate, generous), plans as `plan:<name>`, and custom policies; the bucket map routes
 * buckets to tiers.
 * @example createPolicyRegistry({ policies: { burst: "10/1s", daily: "1000 per 1d" } })
 */
export function createPolicyRegistry(options: PolicyRegistryOptions = {}): PolicyRegistry {
  const defaultAlgorithm = options.defaultAlgorithm ?? "slidingWindow";
  const policies = new Map<string, ResolvedPolicy>();
  // Text replacing a known policy keeps its algorithm and failure mode (`strict: "3/1m"` stays
  // an exact sliding window, `AUTH: "10/1m"` still fails closed).
  const add = (name: string, input: PolicyInput | RateLimitPolicy) =>
    policies.set(name, resolvePolicy(name, input, defaultAlgorithm, policies.get(name)));
  for (const [name, policy] of Object.entries(NAMED_LIMITERS)) add(name, policy);
  for (const [name, policy] of Object.entries(RATE_LIMIT_TIERS)) add(name, policy);
  for (const [name, policy] of Object.entries(options.plans ?? PLANS)) add(`plan:${name}`, policy);
  for (const [name, policy] of Object.entries(options.policies ?? {})) add(name, policy);

  const buckets = new Map<string, readonly string[]>();
  for (const [bucket, tier] of Object.entries(BUCKET_MAP)) buckets.set(bucket, [tier]);
  for (const [bucket, names] of Object.entries(options.buckets ?? {})) {
    buckets.set(bucket, typeof names === "string" ? [names] : [...names]);
  }
  const defaultPolicy = options.defaultPolicy ?? DEFAULT_TIER;

  const get = (name: string): ResolvedPolicy => {
    const policy = policies.get(name);
    if (!policy) {
      throw new RateLimitError(
        "RATELIMIT_UNKNOWN_POLICY",
        `Unknown rate-limit policy "${name}"; known: ${[...policies.keys()].join(", ")}`,
      );
    }
    return policy;
  };
  for (const names of buckets.values()) names.forEach(get);
  get(defaultPolicy);

  const resolve = (selector: PolicySelector): readonly ResolvedPolicy[] => {
    if (selector.policy !== undefined && selector.bucket !== undefined) {
      throw new RateLimitError(
        "RATELIMIT_INVALID_INPUT",
        "Pass either `policy` or `bucket`, not both.",
      );
    }
    const names: string[] = [];
    if (selector.policy !== undefined) {
      names.push(...(typeof selector.policy === "string" ? [selector.policy] : selector.policy));
    } else if (selector.bucket !== undefined) {
      names.push(...(buckets.get(selector.bucket) ?? [defaultPolicy]));
    }
    if (selector.plan !== undefined) names.push(`plan:${selector.plan}`);
    if (names.length === 0) {
      throw new RateLimitError(
        "RATELIMIT_INVALID_INPUT",
        "Pass a `policy`, a `bucket` or a `plan` to limit().",
      );
    }
    return [...new Set(names)].map(get);
  };
  const memo = new Map<string, PolicySet>();
  const singles = new Map<string, PolicySet>();
  const select = (selector: PolicySelector): PolicySet => {
    const policy = selector.policy;
    if (
      typeof policy === "string" &&
      selector.bucket === undefined &&
      selector.plan === undefined
    ) {
      let single = singles.get(policy);
      if (!single) {
        single = { policies: [get(policy)], key: policy };
        singles.set(policy, single);
      }
      return single;
    }
    const memoKey = `${typeof policy === "string" ? `s${policy}` : policy ? `a${policy.join("\u0001")}` : "-"}\u0000${selector.bucket ?? ""}\u0000${selector.plan ?? ""}`;
    let set = memo.get(memoKey);
    if (!set) {
      const policies = resolve(selector);
      set = { policies, key: policies.map((p) => p.name).join("+") };
      if (memo.size >= 1000) memo.clear();
      memo.set(memoKey, set);
    }
    return set;
  };
  return { policies, get, resolve, select };
}
