import { z } from "zod";
import { RateLimitError } from "./errors.ts";
import { parseClientAddress } from "./ip.ts";

/** Request headers as the Fetch API or Node give them. */
export type HeaderSource =
  Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Input of {@link getRateLimitIdentifier}. */
export interface IdentifierInput {
  /** Authenticated user id: used first. */
  userId?: string | number | null | undefined;
  /** API key (or its id): used when there is no user. */
  apiKey?: string | null | undefined;
  /** Request headers (`x-forwarded-for`, `x-real-ip`): read only as the two options below allow. */
  headers?: HeaderSource | undefined;
  /** The socket's peer address, used when no header names the client. */
  ip?: string | null | undefined;
  /**
   * How many proxies in front of the app append to `x-forwarded-for` (0 = ignore the header).
   * The client is the entry this many places from the right; entries left of it are written
   * by the client and never trusted. Without a proxy the header is the client's own text: a new
   * value per request would be a new identity, so nothing is trusted unless you say so. @default 0
   */
  trustedProxyCount?: number;
  /**
   * Trust `x-real-ip` (after a trusted `x-forwarded-for` hop): only when your proxy sets it and
   * overwrites what the client sent. @default false
   */
  trustRealIp?: boolean;
  /** Secret mixed into the hash so identifiers cannot be reversed by guessing (e.g. IPs). */
  salt?: string;
}

/** Who a request is limited as. */
export interface RateLimitIdentity {
  /** Hashed identifier for `limit()`: `user_<hex>`, `key_<hex>`, `ip_<hex>` or `anonymous`. No PII. */
  readonly identifier: string;
  /** Which input decided. */
  readonly kind: "user" | "apiKey" | "ip" | "anonymous";
  /** The client IP group (IPv4 address or IPv6 /64), for the IP deny list; never stored in keys. */
  readonly ip?: string;
}

const inputSchema = z.object({
  userId: z.union([z.string().max(512), z.number()]).nullish(),
  apiKey: z.string().max(4096).nullish(),
  ip: z.string().max(256).nullish(),
  trustedProxyCount: z.number().int().min(0).max(32).optional(),
  trustRealIp: z.boolean().optional(),
  salt: z.string().optional(),
});

function readHeader(headers: HeaderSource | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === "function")
    return (headers as Headers).get(name) ?? undefined;
  const record = headers as Readonly<Record<string, string | readonly string[] | undefined>>;
  const value =
    record[name] ?? Object.entries(record).find(([key]) => key.toLowerCase() === name)?.[1];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.join(",");
}

/**
 * The client IP by the trusted-proxy rule: the `x-forwarded-for` entry `trustedProxyCount`
 * places from the right (the one our own proxies wrote; only when `trustedProxyCount` > 0), else
 * `x-real-ip` (only with `trustRealIp`), else the peer address. With the defaults no header is
 * read. Returns the IP group (IPv6 /64) or undefined.
 */
export function clientIpFrom(
  input: Pick<IdentifierInput, "headers" | "ip" | "trustedProxyCount" | "trustRealIp">,
): string | undefined {
  const trusted = input.trustedProxyCount ?? 0;
  if (trusted > 0) {
    const forwarded = readHeader(input.headers, "x-forwarded-for");
    if (forwarded !== undefined) {
      const hops = forwarded
        .split(",")
        .map((hop) => hop.trim())
        .filter((hop) => hop.length > 0);
      if (hops.length > 0) {
        const hop = hops[Math.max(0, hops.length - trusted)] ?? "";
        const parsed = parseClientAddress(hop);
        if (parsed) return parsed.group;
      }
    }
  }
  if (input.trustRealIp === true) {
    const realIp = readHeader(input.headers, "x-real-ip");
    const parsedReal = realIp === undefined ? undefined : parseClientAddress(realIp);
    if (parsedReal) return parsedReal.group;
  }
  return input.ip ? parseClientAddress(input.ip)?.group : undefined;
}

/** SHA-256 (Web Crypto, Node and edge) of `text`, hex, first 32 characters (128 bits). */
export async function hashIdentifier(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  let hex = "";
  for (const byte of new Uint8Array(digest).subarray(0, 16))
    hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Who to limit: the user id first, then the API key, then the client IP (the trusted
 * `x-forwarded-for` hop counted from the right when `trustedProxyCount` > 0, or `x-real-ip` with
 * `trustRealIp`, or the peer address; IPv6 by /64). The value is hashed, so no PII lands in
 * Redis keys.
 * @example await getRateLimitIdentifier({ headers: request.headers, trustedProxyCount: 1 })
 * @throws RateLimitError RATELIMIT_INVALID_INPUT naming the bad field.
 */
export async function getRateLimitIdentifier(input: IdentifierInput): Promise<RateLimitIdentity> {
  const parsed = inputSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RateLimitError(
      "RATELIMIT_INVALID_INPUT",
      `Invalid identifier input: ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`,
      { cause: parsed.error },
    );
  }
  const salt = input.salt ?? "";
  const ip = clientIpFrom(input);
  const withIp = (identity: Omit<RateLimitIdentity, "ip">): RateLimitIdentity =>
    ip === undefined ? identity : { ...identity, ip };
  if (input.userId !== undefined && input.userId !== null && String(input.userId) !== "") {
    return withIp({
      identifier: `user_${await hashIdentifier(`${salt}|user|${String(input.userId)}`)}`,
      kind: "user",
    });
  }
  if (input.apiKey) {
    return withIp({
      identifier: `key_${await hashIdentifier(`${salt}|apiKey|${input.apiKey}`)}`,
      kind: "apiKey",
    });
  }
  if (ip !== undefined) {
    return { identifier: `ip_${await hashIdentifier(`${salt}|ip|${ip}`)}`, kind: "ip", ip };
  }
  return { identifier: "anonymous", kind: "anonymous" };
}
