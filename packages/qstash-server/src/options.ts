import { isClusterUrl, isRedisUrl } from "@hotpath/redis/internal";
import { z } from "zod";
import { DEV_CREDENTIALS, type TenantCredentials } from "./dev-credentials.ts";
import { isLoopbackHost } from "./destination.ts";
import { QStashServerError } from "./errors.ts";

const redisUrl = z.string({ message: "expected a redis:// or rediss:// URL" }).refine(isRedisUrl, {
  message:
    "expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0, or a cluster's redis+cluster://host:port,host:port",
});

const signingKey = z
  .string({ message: "expected a string" })
  .min(8, { message: "must be at least 8 characters" })
  .regex(/^[\x21-\x7e]+$/, { message: "must be printable ASCII without spaces" });

const tenantSchema = z
  .object({
    token: signingKey,
    currentSigningKey: signingKey,
    nextSigningKey: signingKey,
  })
  .strict();

/** Options of {@link startQStashServer} as accepted (validated with zod). */
export const qstashServerOptionsSchema = z
  .object({
    /**
     * Redis that holds every message, schedule and queue (BullMQ runs on it): `redis://…`, or
     * `redis+cluster://h1:p1,h2:p2` for a Redis Cluster (keys hash-tagged, see `KeyLayout`).
     */
    redisUrl,
    /** TCP port; 0 picks a free one. @default 8181 */
    port: z.number({ message: "expected a port number" }).int().min(0).max(65_535).default(8181),
    /** Address to bind. @default "127.0.0.1" */
    host: z.string().min(1, { message: "must not be empty" }).default("127.0.0.1"),
    /** Accept QStash's dev token with the dev signing keys (what `@upstash/qstash` dev mode expects). @default true */
    devCredentials: z.boolean().default(true),
    /** More tokens, each an isolated tenant with its own signing keys. */
    tenants: z.array(tenantSchema).default([]),
    /** Hosts besides loopback that deliveries and callbacks may go to (exact names, or `*.example.com`). @default [] */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Largest accepted request body in bytes (413 above). @default 1 MiB */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Prefix of every Redis key the server writes (BullMQ's prefix too). @default "hotpath-qstash" */
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.{}-]+$/, { message: "letters, digits, _ . - { } only" })
      .default("hotpath-qstash"),
    /** Multiplies every retry delay (the default formula, Upstash-Retry-Delay and Retry-After); tests make retries fast with it. @default 1 */
    retryDelayScale: z.number().min(0).max(1).default(1),
    /** Deliveries in flight at once per process (messages outside a queue or flow-control key). @default 50 */
    deliveryConcurrency: z.number().int().positive().max(10_000).default(50),
    /** Delivery timeout when a message names none, in ms. @default 60000 */
    defaultTimeoutMs: z.number().int().positive().default(60_000),
    /** How long a deduplication id (or body hash) blocks a second publish, in ms. @default 600000 */
    deduplicationWindowMs: z.number().int().positive().default(600_000),
    /** Events kept per tenant (the oldest go first). @default 10000 */
    maxEvents: z.number().int().positive().default(10_000),
    /** How long close() waits for in-flight requests and deliveries, in ms. @default 5000 */
    closeTimeoutMs: z.number().int().min(0).default(5000),
    /** Clock (ms since epoch); tests may inject one. @default Date.now */
    now: z.custom<() => number>((value) => typeof value === "function").default(() => Date.now),
  })
  .strict()
  // Redis Cluster hashes a key whole when its first "{" is followed by "}": no key would share a slot.
  .refine((value) => !isClusterUrl(value.redisUrl) || !/^[^{]*\{\}/.test(value.prefix), {
    message:
      'on a Redis Cluster the first "{" of the prefix must not be followed by "}" (an empty hash tag)',
    path: ["prefix"],
  });

/** Options of {@link startQStashServer} (before defaults). */
export type QStashServerOptions = z.input<typeof qstashServerOptionsSchema>;
/** Options of {@link startQStashServer} after validation and defaults. */
export type ResolvedQStashServerOptions = z.output<typeof qstashServerOptionsSchema>;

/**
 * Validates server options.
 * @throws QStashServerError QSTASH_CONFIG listing every problem as `field: what was wrong`.
 */
export function parseQStashServerOptions(input: unknown): ResolvedQStashServerOptions {
  const result = qstashServerOptionsSchema.safeParse(input);
  if (result.success) {
    const tokens = allTenants(result.data).map((tenant) => tenant.token);
    if (tokens.length === 0) {
      throw new QStashServerError(
        "QSTASH_CONFIG",
        "Invalid QStash server options:\n  - tenants: give at least one tenant, or keep devCredentials",
      );
    }
    if (result.data.devCredentials && !isLoopbackHost(result.data.host)) {
      // The dev token and keys are published with @upstash/qstash: off this machine they are no secret.
      throw new QStashServerError(
        "QSTASH_CONFIG",
        `Invalid QStash server options:\n  - devCredentials: the public dev token is accepted only on a loopback host, not ${result.data.host}; give your own tenants and turn the dev credentials off (--no-dev-credentials)`,
      );
    }
    if (new Set(tokens).size !== tokens.length) {
      throw new QStashServerError(
        "QSTASH_CONFIG",
        "Invalid QStash server options:\n  - tenants: a token is listed twice",
      );
    }
    return result.data;
  }
  const lines = result.error.issues.map(
    (issue) => `  - ${issue.path.map(String).join(".") || "(options)"}: ${issue.message}`,
  );
  throw new QStashServerError(
    "QSTASH_CONFIG",
    `Invalid QStash server options:\n${lines.join("\n")}`,
    { cause: result.error },
  );
}

/** Every tenant the options grant: the dev user first (when enabled), then `tenants`. */
export function allTenants(options: ResolvedQStashServerOptions): TenantCredentials[] {
  return [...(options.devCredentials ? [DEV_CREDENTIALS] : []), ...options.tenants];
}
