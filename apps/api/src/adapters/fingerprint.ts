import { canonicalJson } from "../trpc/middleware/cache.ts";

/** SHA-256 (Web Crypto) of the canonical JSON of `value`, hex: the idempotency payload fingerprint. */
export async function fingerprint(value: unknown): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonicalJson(value)),
  );
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}
