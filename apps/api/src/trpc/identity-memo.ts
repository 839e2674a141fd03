import {
  clientIpFrom,
  getRateLimitIdentifier,
  type IdentifierInput,
  type RateLimitIdentity,
} from "@hotpath/ratelimit";

const MAX_ENTRIES = 10_000;

/** The API key the admin token is rate-limited as (its identifier is `key_<hash of this>`). */
export const ADMIN_RATE_LIMIT_KEY = "admin";
const memo = new Map<string, RateLimitIdentity>();

/**
 * {@link getRateLimitIdentifier} memoised per (user, API key, client IP group): the identifier is
 * a SHA-256 of those inputs, so a hot client costs no hashing after its first request. Bounded
 * (oldest entries dropped first), per process.
 */
export async function memoisedIdentity(input: IdentifierInput): Promise<RateLimitIdentity> {
  const ip = clientIpFrom(input) ?? "";
  const key = `${input.userId ?? ""}|${input.apiKey ?? ""}|${ip}`;
  const known = memo.get(key);
  if (known) return known;
  const identity = await getRateLimitIdentifier(input);
  if (memo.size >= MAX_ENTRIES) {
    const oldest = memo.keys().next();
    if (!oldest.done) memo.delete(oldest.value);
  }
  memo.set(key, identity);
  return identity;
}
