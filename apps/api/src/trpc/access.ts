import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { Principal } from "./context.ts";
import type { ApiSettings } from "./deps.ts";

/** The realm named in every `WWW-Authenticate` challenge. */
export const AUTH_REALM = "hotpath";

/** Why a caller may not go on, as HTTP and tRPC see it (RFC 6750 §3 for the challenge). */
export interface AccessDenial {
  code: Extract<TRPC_ERROR_CODE_KEY, "UNAUTHORIZED" | "FORBIDDEN" | "SERVICE_UNAVAILABLE">;
  httpStatus: 401 | 403 | 503;
  message: string;
  /** `WWW-Authenticate` value of the response, when there is a challenge to send. */
  wwwAuthenticate?: string;
}

/** `Bearer realm="hotpath"` plus an RFC 6750 error code when credentials were presented. */
export function bearerChallenge(error?: "invalid_token" | "insufficient_scope"): string {
  return `Bearer realm="${AUTH_REALM}"${error ? `, error="${error}"` : ""}`;
}

const SESSIONS_DOWN: AccessDenial = {
  code: "SERVICE_UNAVAILABLE",
  httpStatus: 503,
  message: "Sessions are unavailable right now; retry later.",
};

/**
 * The answer to a caller who needs a user session but is not one: no credentials -> 401 with a bare challenge; invalid or unknown token -> 401 `invalid_token`;
 * the admin token (valid, but not a user) -> 403; session store down -> 503.
 */
export function userDenial(principal: Exclude<Principal, { kind: "user" }>): AccessDenial {
  if (principal.kind === "admin") {
    return {
      code: "FORBIDDEN",
      httpStatus: 403,
      message: "The admin token is not a user session: log in as a user.",
      wwwAuthenticate: bearerChallenge("insufficient_scope"),
    };
  }
  if (principal.reason === "unavailable") return SESSIONS_DOWN;
  if (principal.reason === "invalid") {
    return {
      code: "UNAUTHORIZED",
      httpStatus: 401,
      message: "Invalid or expired session token.",
      wwwAuthenticate: bearerChallenge("invalid_token"),
    };
  }
  return {
    code: "UNAUTHORIZED",
    httpStatus: 401,
    message: "Log in first (session cookie or bearer token).",
    wwwAuthenticate: bearerChallenge(),
  };
}

/**
 * The answer to a caller who needs the admin token: undefined for the admin; admin surfaces
 * closed (no `ADMIN_TOKEN`) -> 403; no credentials -> 401; invalid token -> 401 `invalid_token`;
 * a valid user session -> 403 `insufficient_scope`; session store down -> 503.
 */
export function adminDenial(
  principal: Principal,
  settings: Pick<ApiSettings, "adminToken">,
): AccessDenial | undefined {
  if (principal.kind === "admin") return undefined;
  if (settings.adminToken === undefined) {
    return {
      code: "FORBIDDEN",
      httpStatus: 403,
      message: "Admin endpoints are disabled (ADMIN_TOKEN is not set).",
    };
  }
  if (principal.kind === "user") {
    return {
      code: "FORBIDDEN",
      httpStatus: 403,
      message: "Admin token required (Authorization: Bearer <ADMIN_TOKEN>).",
      wwwAuthenticate: bearerChallenge("insufficient_scope"),
    };
  }
  if (principal.reason === "unavailable") return SESSIONS_DOWN;
  return {
    code: "UNAUTHORIZED",
    httpStatus: 401,
    message:
      principal.reason === "invalid"
        ? "Admin token required (Authorization: Bearer <ADMIN_TOKEN>): the token sent is not valid."
        : "Admin token required (Authorization: Bearer <ADMIN_TOKEN>).",
    wwwAuthenticate: bearerChallenge(principal.reason === "invalid" ? "invalid_token" : undefined),
  };
}

/** Like {@link adminDenial}, but nobody is denied when the metrics are public (`METRICS_PUBLIC`). */
export function metricsDenial(
  principal: Principal,
  settings: Pick<ApiSettings, "adminToken" | "metricsPublic">,
): AccessDenial | undefined {
  if (settings.metricsPublic) return undefined;
  if (settings.adminToken === undefined) {
    return {
      code: "FORBIDDEN",
      httpStatus: 403,
      message: "Metrics are closed: set ADMIN_TOKEN (and send it) or METRICS_PUBLIC=true.",
    };
  }
  return adminDenial(principal, settings);
}
