import { RateLimitError, RateLimitExceededError, RateLimitUnavailableError } from "./errors.ts";
import {
  getRateLimitHeaders,
  rateLimitExceededBody,
  rateLimitProblem,
  PROBLEM_TYPES,
  type HeaderOptions,
} from "./headers.ts";
import { getRateLimitIdentifier, type IdentifierInput } from "./identifiers.ts";
import type { LimitOptions, RateLimiter } from "./limiter.ts";
import type { RateLimitResult } from "./types.ts";

/** Options of the HTTP adapters. */
export interface ResponseOptions extends HeaderOptions {
  /** Answer `application/problem+json` (RFC 9457, `quota-exceeded`) instead of the plain JSON body. */
  problem?: boolean;
}

/**
 * The 429 Response for a blocked decision: JSON body `{ error, message, retryAfter }` (or the
 * problem+json variant), `Retry-After`, `X-RateLimit-*` and `RateLimit`/`RateLimit-Policy`.
 */
export function rateLimitResponse(
  result: RateLimitResult,
  options: ResponseOptions = {},
): Response {
  const headers = new Headers(getRateLimitHeaders(result, options));
  const body = options.problem ? rateLimitProblem(result) : rateLimitExceededBody(result);
  headers.set("Content-Type", options.problem ? "application/problem+json" : "application/json");
  return new Response(JSON.stringify(body), { status: 429, headers });
}

/** The 503 Response for {@link RateLimitUnavailableError} (a fail-closed policy while Redis is down). */
export function rateLimitUnavailableResponse(
  error: RateLimitUnavailableError,
  options: { problem?: boolean } = {},
): Response {
  const headers = new Headers({ "Retry-After": String(error.retryAfter) });
  const body = options.problem
    ? {
        type: PROBLEM_TYPES.temporaryReducedCapacity,
        title: "Temporarily reduced capacity",
        status: 503,
        detail: error.message,
        "violated-policies": [error.policy],
        retryAfter: error.retryAfter,
      }
    : { error: "Service unavailable", message: error.message, retryAfter: error.retryAfter };
  headers.set("Content-Type", options.problem ? "application/problem+json" : "application/json");
  return new Response(JSON.stringify(body), { status: 503, headers });
}

/** Input of {@link enforceRateLimit}: who, and which policies. */
export interface EnforceInput extends LimitOptions {
  /** Identifier from {@link getRateLimitIdentifier} (or any stable id). */
  identifier: string;
  /** Header families. */
  headers?: HeaderOptions;
}

/**
 * The framework-agnostic middleware step (the tRPC middleware calls it): checks the limit and
 * returns the decision plus the headers to set; when blocked, throws
 * {@link RateLimitExceededError} carrying `retryAfter`, `limit`, `remaining` and the headers.
 * @throws RateLimitExceededError when blocked (map to 429 / TOO_MANY_REQUESTS).
 * @throws RateLimitUnavailableError when a fail-closed policy cannot be checked (map to 503).
 */
export async function enforceRateLimit(
  limiter: RateLimiter,
  input: EnforceInput,
): Promise<{ result: RateLimitResult; headers: Record<string, string> }> {
  const { identifier, headers: headerOptions, ...limitOptions } = input;
  const result = await limiter.limit(identifier, limitOptions);
  const headers = getRateLimitHeaders(result, headerOptions);
  if (!result.success) throw new RateLimitExceededError(result, headers);
  return { result, headers };
}

/** Options of {@link withRateLimit}. */
export interface WithRateLimitOptions extends LimitOptions, ResponseOptions {
  /** How to find the identifier: user id / API key / trusted proxies (headers come from the request). */
  identify?: Omit<IdentifierInput, "headers"> | ((request: Request) => Promise<string> | string);
}

/**
 * Wraps a fetch handler: identifies the caller, checks the limit, answers 429 (or 503 for a
 * fail-closed policy while Redis is down) or calls the handler and adds the rate-limit headers
 * to its Response.
 * @example export default { fetch: (req) => withRateLimit(limiter, req, handler, { bucket: "api" }) }
 */
export async function withRateLimit(
  limiter: RateLimiter,
  request: Request,
  handler: (request: Request, result: RateLimitResult) => Response | Promise<Response>,
  options: WithRateLimitOptions = {},
): Promise<Response> {
  const { identify, problem, legacy, ietf, ...limitOptions } = options;
  let identifier: string;
  let ip: string | undefined;
  if (typeof identify === "function") {
    identifier = await identify(request);
  } else {
    const identity = await getRateLimitIdentifier({ ...identify, headers: request.headers });
    identifier = identity.identifier;
    ip = identity.ip;
  }
  let result: RateLimitResult;
  try {
    result = await limiter.limit(identifier, { ...limitOptions, ip: limitOptions.ip ?? ip });
  } catch (error) {
    if (error instanceof RateLimitUnavailableError)
      return rateLimitUnavailableResponse(error, { problem });
    throw error;
  }
  if (!result.success) return rateLimitResponse(result, { problem, legacy, ietf });
  const response = await handler(request, result);
  const headers = getRateLimitHeaders(result, { legacy, ietf });
  try {
    for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    return response;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    // Immutable headers (e.g. a fetched Response): copy it.
    const copy = new Response(response.body, response);
    for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
    return copy;
  }
}

/** True when `error` is one of this package's errors with the given code. */
export function isRateLimitError(
  error: unknown,
  code?: RateLimitError["code"],
): error is RateLimitError {
  return error instanceof RateLimitError && (code === undefined || error.code === code);
}
