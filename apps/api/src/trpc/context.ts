import type { RateLimitIdentity } from "@hotpath/ratelimit";
import { secretsEqual } from "../auth/secrets.ts";
import { isUnavailableError } from "./errors.ts";
import type { ApiDeps, SessionData } from "./deps.ts";
import { ADMIN_RATE_LIMIT_KEY, memoisedIdentity } from "./identity-memo.ts";

/** Name of the session cookie. */
export const SESSION_COOKIE = "hotpath_session";
/** Response header echoing the request id. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Who is calling, once credentials were checked. */
export type Principal =
  | {
      kind: "user";
      userId: number;
      username: string;
      sessionId: string;
      expiresAt: number;
      session: SessionData;
    }
  | { kind: "admin" }
  | { kind: "anonymous"; reason: "none" | "invalid" | "unavailable" };

/** How the response may be cached by HTTP caches (accumulated over a batch). */
export interface ResponseCachePolicy {
  /** Calls of the batch that went through `cached()`; fewer than the batch size = no-store. */
  cachedCalls: number;
  /** `public` = shared caches may keep it; `private` = per user only. */
  scope: "public" | "private";
  /** Smallest max-age of the calls in the batch. */
  maxAgeSeconds: number;
  /** Request headers the response depends on (Vary). */
  vary: Set<string>;
}

/** Options of {@link createContextInner}: everything a request contributes, without HTTP. */
export interface CreateContextOptions {
  deps: ApiDeps;
  /** Request headers (cookie, authorization, x-forwarded-for, idempotency-key…). */
  headers?: Headers;
  /** Response headers the middlewares write (rate limit, Cache-Control, Idempotent-Replayed…). */
  resHeaders?: Headers;
  /** The socket's peer address (used when no trusted proxy header names the client). */
  peerIp?: string;
  /** True when the client reached us over HTTPS (Secure cookies). */
  secure?: boolean;
  /** Request id (generated when absent). */
  requestId?: string;
  /** Runs background work after the response (edge `waitUntil`; Node: tracked until shutdown). */
  waitUntil?: (promise: Promise<unknown>) => void;
}

function parseCookies(header: string | null): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (!cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

const TOKEN = /^[A-Za-z0-9._~+/=-]{1,256}$/;

function bearerFrom(header: string | null): string | undefined {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header.trim()) : null;
  const token = match?.[1];
  return token && TOKEN.test(token) ? token : undefined;
}

/** A request id from the client when it is safe to echo, else a new UUID. */
export function requestIdFrom(headers: Headers): string {
  const given = headers.get(REQUEST_ID_HEADER);
  return given && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : crypto.randomUUID();
}

/**
 * Builds the tRPC context of one call from plain inputs (testable without HTTP). Credentials
 * are resolved lazily and once: procedures that never ask who is calling cost no Redis trip.
 */
export function createContextInner(options: CreateContextOptions) {
  const { deps } = options;
  const headers = options.headers ?? new Headers();
  const resHeaders = options.resHeaders ?? new Headers();
  const requestId = options.requestId ?? requestIdFrom(headers);
  const waitUntil =
    options.waitUntil ??
    ((promise: Promise<unknown>) => {
      promise.catch((error: unknown) =>
        deps.logger.warn("background task failed", { requestId, error: String(error) }),
      );
    });
  const cookieToken = parseCookies(headers.get("cookie")).get(SESSION_COOKIE);
  const bearer = bearerFrom(headers.get("authorization"));
  const sessionToken = cookieToken && TOKEN.test(cookieToken) ? cookieToken : bearer;
  const adminToken = deps.settings.adminToken;

  let principal: Promise<Principal> | undefined;
  let identity: Promise<RateLimitIdentity> | undefined;

  const resolvePrincipal = async (): Promise<Principal> => {
    if (
      bearer !== undefined &&
      adminToken !== undefined &&
      (await secretsEqual(bearer, adminToken))
    )
      return { kind: "admin" };
    // An Authorization header that is not a well-formed bearer token is an invalid credential.
    if (!sessionToken)
      return { kind: "anonymous", reason: headers.has("authorization") ? "invalid" : "none" };
    try {
      const found = await deps.sessions.get(sessionToken);
      if (!found) return { kind: "anonymous", reason: "invalid" };
      return {
        kind: "user",
        userId: found.data.userId,
        username: found.data.username,
        sessionId: sessionToken,
        expiresAt: found.expiresAt,
        session: found.data,
      };
    } catch (error) {
      // Only an outage makes the session "unavailable" (503); any other failure is a bug (500).
      if (!isUnavailableError(error)) throw error;
      deps.logger.warn("session lookup failed", { requestId, error: String(error) });
      return { kind: "anonymous", reason: "unavailable" };
    }
  };

  const getPrincipal = (): Promise<Principal> => {
    principal ??= resolvePrincipal();
    return principal;
  };

  return {
    deps,
    requestId,
    headers,
    resHeaders,
    waitUntil,
    peerIp: options.peerIp,
    secure: options.secure ?? false,
    /** The session token presented (cookie first, else bearer), not yet verified. */
    sessionToken,
    /** Who is calling (memoised; one session read at most). */
    principal: getPrincipal,
    /** The rate-limit identity: user id, else API key (admin), else client IP (trusted-proxy rule). */
    identity: (): Promise<RateLimitIdentity> => {
      identity ??= (async () => {
        const who = await getPrincipal();
        return memoisedIdentity({
          userId: who.kind === "user" ? who.userId : undefined,
          apiKey: who.kind === "admin" ? ADMIN_RATE_LIMIT_KEY : undefined,
          headers,
          ip: options.peerIp,
          trustedProxyCount: deps.settings.trustedProxyCount,
        });
      })();
      return identity;
    },
    /** HTTP cache policy accumulated by `cached()` over the calls of this request. */
    cachePolicy: {
      cachedCalls: 0,
      scope: "public",
      maxAgeSeconds: Number.POSITIVE_INFINITY,
      vary: new Set(),
    } as ResponseCachePolicy,
  };
}

/** The tRPC context. */
export type Context = ReturnType<typeof createContextInner>;
