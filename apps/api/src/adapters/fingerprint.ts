import { fingerprintPayload } from "@hotpath/cache";

/**
 * SHA-256 (Web Crypto) of the canonical JSON of `value`, hex: the idempotency payload
 * fingerprint (the cache package's one implementation).
 */
export function fingerprint(value: unknown): Promise<string> {
  return fingerprintPayload(value);
}
