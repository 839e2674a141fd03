import { parseDurationMs, type Duration } from "@hotpath/config";
import { CacheError } from "./errors.ts";

/** A TTL: a number of seconds (as the config TTL_* constants) or a duration string ("10s", "5m"). */
export type Ttl = number | Duration;

/** Converts a {@link Ttl} to ms; throws CACHE_INVALID_OPTION naming the field. */
export function ttlToMs(value: Ttl, field: string): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new CacheError(
        "CACHE_INVALID_OPTION",
        `${field} must be a non-negative number of seconds, got ${value}`,
      );
    }
    return value * 1000;
  }
  try {
    return parseDurationMs(value);
  } catch (error) {
    throw new CacheError("CACHE_INVALID_OPTION", `${field}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** A Standard Schema (zod 4, valibot, arktype…) validating values read back. */
export interface StandardSchema<T = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<T> | Promise<StandardResult<T>>;
  };
}

/** The result of a Standard Schema validation. */
export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | {
      readonly issues: readonly { readonly message: string; readonly path?: readonly unknown[] }[];
    };

/** Validates `value`; returns `{ ok, value }` or `{ ok: false, message }` naming the first issue's field. */
export async function validateWith<T>(
  schema: StandardSchema<T>,
  value: unknown,
): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  let result = schema["~standard"].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues === undefined) return { ok: true, value: result.value };
  const first = result.issues[0];
  const path = first?.path
    ?.map((p) => (typeof p === "object" && p !== null && "key" in p ? String(p.key) : String(p)))
    .join(".");
  return { ok: false, message: `${path ? `${path}: ` : ""}${first?.message ?? "invalid value"}` };
}

/** A short random hex id (Web Crypto). */
export function randomId(bytes = 16): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}
