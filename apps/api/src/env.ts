import { parseEnv, serverEnvSchema } from "@hotpath/config";
import { z } from "zod";

/** The API's environment: the shared server schema plus the API's own knobs. */
export const apiEnvSchema = serverEnvSchema
  .extend({
    /** PostgreSQL schema (search_path) the API uses on a `DATABASE_URL` server. @default "public" */
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, { message: "expected a lower-case SQL identifier" })
      .default("public"),
    /** `true`: seed an empty database with the demo users at start (`pnpm dev` sets it). @default false */
    SEED: z.enum(["true", "false"]).default("false"),
    /** `true`: `/metrics` and the `metrics.*` series need no admin token. @default false */
    METRICS_PUBLIC: z.enum(["true", "false"]).default("false"),
    /** Key prefix of every Redis key the API writes (`<app>:<area>:…`). @default "hotpath" */
    HOTPATH_APP: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, { message: "use letters, digits, _, - or ." })
      .default("hotpath"),
    /** Log level of the structured JSON logger. @default "info" */
    LOG_LEVEL: z.enum(["debug", "info", "warn", "error", "silent"]).default("info"),
    /** PBKDF2-SHA256 iterations for new password hashes. @default 600000 (OWASP 2023) */
    PASSWORD_ITERATIONS: z.coerce.number().int().min(10_000).max(10_000_000).default(600_000),
    /** Session lifetime in seconds, slid on every authenticated call. @default 604800 (7 days) */
    SESSION_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(90 * 86_400)
      .default(604_800),
    /**
     * Extra or replaced rate-limit policies as JSON, e.g. `{"strict":"10/1m","generous":"100000/1m"}`
     * (text policies or @hotpath/config policy objects; benchmarks raise limits with it).
     */
    RATE_LIMIT_POLICIES: z
      .string()
      .optional()
      .transform((text, context) => {
        if (text === undefined) return undefined;
        try {
          const value = JSON.parse(text) as unknown;
          if (value && typeof value === "object" && !Array.isArray(value))
            return value as Record<string, string | object>;
        } catch {
          // reported below
        }
        context.addIssue({
          code: "custom",
          message: 'expected a JSON object such as {"strict":"10/1m"}',
        });
        return z.NEVER;
      }),
    /** The dashboard's production build, served at /dashboard/ (relative to the API's folder). */
    DASHBOARD_DIR: z.string().min(1).default("../dashboard/dist"),
    /**
     * QStash for background jobs (Upstash's cloud, or the local server `pnpm dev` starts). Unset:
     * no jobs; pending outbox rows are applied by an in-process relay instead.
     */
    QSTASH_URL: z.url().optional(),
    /** QStash token (required with `QSTASH_URL`). */
    QSTASH_TOKEN: z.string().min(1).optional(),
    /** Signing key QStash signs deliveries with now (required with `QSTASH_URL`). */
    QSTASH_CURRENT_SIGNING_KEY: z.string().min(1).optional(),
    /** Signing key QStash signs with after the next rotation (required with `QSTASH_URL`). */
    QSTASH_NEXT_SIGNING_KEY: z.string().min(1).optional(),
    /**
     * Public base URL of this API as QStash reaches it (the webhook is `<base>/jobs/qstash`; the
     * signature names this exact URL). Required with `QSTASH_URL`.
     */
    PUBLIC_BASE_URL: z.url().optional(),
    /** Outbox rows still pending after this many seconds are re-published by the relay. @default 30 */
    OUTBOX_RELAY_AFTER_SECONDS: z.coerce.number().int().min(1).max(86_400).default(30),
    /** Seconds SIGTERM waits for in-flight requests before closing connections. @default 10 */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    /**
     * `false`: no latency histograms (per procedure, per Redis operation group, Redis/database
     * waits), nor the per-call scope that times Redis and database round trips. @default true
     */
    LATENCY_HISTOGRAMS: z.enum(["true", "false"]).default("true"),
    /**
     * TEST ONLY, refused when `NODE_ENV=production`: makes procedures slow on purpose, as
     * `<procedure path>=<ms>` pairs separated by commas (`streams.status=300`), for tests of the
     * latency views.
     */
    TEST_PROCEDURE_DELAY: z
      .string()
      .optional()
      .transform((text, context) => {
        if (text === undefined) return undefined;
        const delays = new Map<string, number>();
        for (const pair of text.split(",")) {
          const match = /^\s*([A-Za-z][\w.]*)=(\d{1,5})\s*$/.exec(pair);
          const ms = Number(match?.[2]);
          if (!match?.[1] || !(ms >= 1 && ms <= 60_000)) {
            context.addIssue({
              code: "custom",
              message: `expected <procedure>=<ms> pairs (1-60000 ms) such as streams.status=300, got "${pair}"`,
            });
            return z.NEVER;
          }
          delays.set(match[1], ms);
        }
        return delays;
      }),
  })
  .superRefine((env, context) => {
    if (env.NODE_ENV === "production" && env.TEST_PROCEDURE_DELAY !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["TEST_PROCEDURE_DELAY"],
        message: "is test-only and refused when NODE_ENV=production (unset it)",
      });
    }
  });

/** Parsed {@link apiEnvSchema}. */
export type ApiEnv = z.output<typeof apiEnvSchema>;

/**
 * Reads and validates the API environment (the only reader of `process.env` in the API).
 * @throws ConfigError CONFIG_INVALID_ENV naming each bad variable.
 */
export function loadEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  return parseEnv(apiEnvSchema, source);
}
