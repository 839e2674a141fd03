import { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.ts";

function hasProtocol(value: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

// One check, one message: a bad URL is reported once, and the value (maybe holding a password) never.
const optionalUrl = (protocols: readonly string[]) =>
  z
    .string()
    .refine((value) => hasProtocol(value, protocols), {
      message: `expected a ${protocols.map((p) => p.replace(":", "://")).join(" or ")} URL`,
    })
    .optional();

// `redis+cluster://[user:pass@]h1:p1,h2:p2` is no WHATWG URL (several hosts): checked by shape.
const CLUSTER_URL =
  /^rediss?\+cluster:\/\/(?:[^@/\s]*@)?[^,/\s]+:\d{1,5}(?:,[^,/\s]+:\d{1,5})*\/?$/;
const CLUSTER_NODES = /^[^,/\s]+:\d{1,5}(?:,[^,/\s]+:\d{1,5})*$/;

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ message: "expected a whole number" })
    .int({ message: "expected a whole number" })
    .min(min, { message: `expected a number >= ${min}` })
    .max(max, { message: `expected a number <= ${max}` });

/** Environment of the server processes (API, gateway CLI, dev runner). */
export const serverEnvSchema = z.object({
  /**
   * Production unless told otherwise: development behaviour (stacks, demo data) only when a
   * process is started in development mode explicitly (`pnpm dev` does). @default "production"
   */
  NODE_ENV: z.enum(["development", "test", "production"]).default("production"),
  PORT: integer(0, 65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  UPSTASH_REDIS_REST_URL: optionalUrl(["https:", "http:"]),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  /** `redis://`, `rediss://` (one server) or `redis+cluster://h1:p1,h2:p2` (a Redis Cluster). */
  REDIS_URL: z
    .string()
    .refine((value) => hasProtocol(value, ["redis:", "rediss:"]) || CLUSTER_URL.test(value), {
      message: "expected a redis://, rediss:// or redis+cluster://host:port,host:port URL",
    })
    .optional(),
  /** `h1:p1,h2:p2,…`: seeds of a Redis Cluster (instead of `REDIS_URL`). */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(CLUSTER_NODES, { message: "expected host:port,host:port,…" })
    .optional(),
  REDIS_TIMEOUT_MS: integer(1).default(1000),
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
  DATA_DIR: z.string().min(1).optional(),
  QSTASH_URL: optionalUrl(["https:", "http:"]),
  QSTASH_TOKEN: z.string().min(1).optional(),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1).optional(),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16, { message: "must be at least 16 characters" }).optional(),
  TRUSTED_PROXY_COUNT: integer(0).default(0),
});
/** Parsed {@link serverEnvSchema}. */
export type ServerEnv = z.output<typeof serverEnvSchema>;

/** Environment visible to the browser bundle (Vite's `VITE_*`). */
export const browserEnvSchema = z.object({
  VITE_API_URL: z.string().min(1).default("/trpc"),
  VITE_POLL_INTERVAL_MS: integer(500).default(2000),
});
/** Parsed {@link browserEnvSchema}. */
export type BrowserEnv = z.output<typeof browserEnvSchema>;

/**
 * Validates an environment source against a schema.
 * @throws ConfigError CONFIG_INVALID_ENV with one line per problem (`NAME: what was wrong`),
 * never a stack of zod internals.
 */
export function parseEnv<TSchema extends z.ZodType>(
  schema: TSchema,
  source: Record<string, string | undefined>,
): z.output<TSchema> {
  // Empty strings mean "not set", as in most .env files.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join(".") || "(root)",
    message: issue.message,
  }));
  throw new ConfigError(
    "CONFIG_INVALID_ENV",
    `Invalid environment:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join("\n")}`,
    // No `cause`: printing the error must not dump zod's internals; `issues` carries the details.
    { issues },
  );
}
