import { z } from "zod";
import { ConfigError, type ConfigIssue } from "./errors.ts";

const optionalUrl = (protocols: readonly string[]) =>
  z
    .url({ message: `expected a URL (${protocols.join(", ")})` })
    .refine((value) => protocols.some((p) => value.startsWith(`${p}//`)), {
      message: `expected a ${protocols.join(" or ")} URL`,
    })
    .optional();

/** Environment of the server processes (API, gateway CLI, dev runner). */
export const serverEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  HOST: z.string().min(1).default("127.0.0.1"),
  UPSTASH_REDIS_REST_URL: optionalUrl(["https:", "http:"]),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  REDIS_URL: optionalUrl(["redis:", "rediss:"]),
  REDIS_TIMEOUT_MS: z.coerce.number().int().positive().default(1000),
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
  DATA_DIR: z.string().min(1).optional(),
  QSTASH_URL: optionalUrl(["https:", "http:"]),
  QSTASH_TOKEN: z.string().min(1).optional(),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1).optional(),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16, { message: "must be at least 16 characters" }).optional(),
  TRUSTED_PROXY_COUNT: z.coerce.number().int().min(0).default(0),
});
/** Parsed {@link serverEnvSchema}. */
export type ServerEnv = z.output<typeof serverEnvSchema>;

/** Environment visible to the browser bundle (Vite's `VITE_*`). */
export const browserEnvSchema = z.object({
  VITE_API_URL: z.string().min(1).default("/trpc"),
  VITE_POLL_INTERVAL_MS: z.coerce.number().int().min(500).default(2000),
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
    { issues, cause: result.error },
  );
}
