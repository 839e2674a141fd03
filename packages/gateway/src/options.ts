import { isRedisUrl } from "@hotpath/redis/internal";
import { z } from "zod";
import { GatewayError } from "./errors.ts";

const redisUrl = z.string({ message: "expected a redis:// or rediss:// URL" }).refine(isRedisUrl, {
  message:
    "expected a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0, or a cluster's redis+cluster://host:port,host:port",
});

const token = z
  .string({ message: "expected a string" })
  .min(8, { message: "must be at least 8 characters" })
  .regex(/^[\x21-\x7e]+$/, { message: "must be printable ASCII without spaces" });

/** Options of {@link startGateway} as accepted (validated with zod). */
export const gatewayOptionsSchema = z
  .object({
    /** Redis behind the default token (`token`, or a generated one). */
    redisUrl: redisUrl.optional(),
    /** Bearer token for `redisUrl`; a random one is generated when neither this nor `tokens` is given. */
    token: token.optional(),
    /** More tokens, each mapped to its own Redis URL (a different server or `/db`). */
    tokens: z.record(token, redisUrl).optional(),
    /** TCP port; 0 picks a free one. @default 8079 */
    port: z.number({ message: "expected a port number" }).int().min(0).max(65_535).default(8079),
    /** Address to bind. @default "127.0.0.1" */
    host: z.string().min(1, { message: "must not be empty" }).default("127.0.0.1"),
    /** Largest accepted request body in bytes (413 above). @default 1 MiB */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /**
     * Pass on commands that control the server (CONFIG, DEBUG, MODULE, SHUTDOWN, SAVE, BGSAVE,
     * BGREWRITEAOF, ACL, REPLICAOF, SLAVEOF, FAILOVER, MIGRATE, SWAPDB, CLUSTER write forms).
     * Off by default: a token then only reaches data. @default false
     */
    allowAdminCommands: z.boolean().default(false),
    /** Open SSE subscriptions allowed per token (429 above). @default 100 */
    maxSubscriptionsPerToken: z.number().int().positive().default(100),
    /** Per-command Redis timeout in ms. @default 5000 */
    commandTimeoutMs: z.number().int().positive().default(5000),
    /** How long start waits for Redis to answer before listening anyway (503 until it does), in ms. @default 3000 */
    connectTimeoutMs: z.number().int().min(0).default(3000),
    /** How long close() waits for in-flight requests before cutting them, in ms. @default 5000 */
    closeTimeoutMs: z.number().int().min(0).default(5000),
  })
  .strict()
  .refine(
    (value) =>
      value.redisUrl !== undefined ||
      (value.tokens !== undefined && Object.keys(value.tokens).length > 0),
    {
      message: "give redisUrl, or tokens mapping at least one token to a Redis URL",
      path: ["redisUrl"],
    },
  )
  .refine((value) => value.token === undefined || value.redisUrl !== undefined, {
    message: "token needs redisUrl (the Redis it grants access to)",
    path: ["token"],
  });

/** Options of {@link startGateway} (before defaults). */
export type GatewayOptions = z.input<typeof gatewayOptionsSchema>;
/** Options of {@link startGateway} after validation and defaults. */
export type ResolvedGatewayOptions = z.output<typeof gatewayOptionsSchema>;

/**
 * Validates gateway options.
 * @throws GatewayError GATEWAY_CONFIG listing every problem as `field: what was wrong`.
 */
export function parseGatewayOptions(input: unknown): ResolvedGatewayOptions {
  const result = gatewayOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (issue) => `  - ${issue.path.map(String).join(".") || "(options)"}: ${issue.message}`,
  );
  throw new GatewayError("GATEWAY_CONFIG", `Invalid gateway options:\n${lines.join("\n")}`, {
    cause: result.error,
  });
}

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    bare === "localhost" ||
    bare === "::1" ||
    /^127(\.\d{1,3}){3}$/.test(bare) ||
    bare === "::ffff:127.0.0.1"
  );
}
