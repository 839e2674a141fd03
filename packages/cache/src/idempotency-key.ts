import { IdempotencyKeyError } from "./errors.ts";

/** Longest accepted key (Stripe, IETF). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * Validates an Idempotency-Key: 1..255 printable ASCII characters. A structured-field string
 * (`"abc"`, as the IETF draft sends it) is unquoted first.
 * @throws IdempotencyKeyError (400) naming the problem.
 */
export function parseIdempotencyKey(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw.trim() === "") {
    throw new IdempotencyKeyError("Idempotency-Key is required for this operation.");
  }
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new IdempotencyKeyError(
      `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters long (got ${key.length}).`,
    );
  }
  if (!/^[\x20-\x7E]+$/.test(key)) {
    throw new IdempotencyKeyError("Idempotency-Key must contain printable ASCII characters only.");
  }
  return key;
}
