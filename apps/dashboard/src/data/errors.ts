/** What went wrong with a request, as the UI needs to know it. */
export type ProblemKind = "unauthorized" | "unreachable" | "failed";

/** A problem to show: its kind and a message for people. */
export interface Problem {
  kind: ProblemKind;
  message: string;
}

interface ErrorLike {
  message?: unknown;
  data?: { code?: unknown; httpStatus?: unknown; retryAfter?: unknown } | null;
  cause?: unknown;
}

/**
 * Classifies an error thrown by the tRPC client: 401/403 -> `unauthorized`; no HTTP answer at all
 * (network error, proxy 502/503/504 while the API is down) -> `unreachable`; anything else -> `failed`.
 */
export function classifyError(error: unknown): Problem {
  const e = (typeof error === "object" && error !== null ? error : {}) as ErrorLike;
  const code = typeof e.data?.code === "string" ? e.data.code : undefined;
  const status = typeof e.data?.httpStatus === "number" ? e.data.httpStatus : undefined;
  const message = typeof e.message === "string" ? e.message : String(error);
  if (code === "UNAUTHORIZED" || code === "FORBIDDEN" || status === 401 || status === 403) {
    const shown = status ?? (code === "FORBIDDEN" ? 403 : 401);
    return {
      kind: "unauthorized",
      message: `The API rejected the admin token (${shown}: ${message}). Enter the ADMIN_TOKEN the API was started with.`,
    };
  }
  if (code === "TOO_MANY_REQUESTS" || status === 429) {
    const retryAfter = typeof e.data?.retryAfter === "number" ? e.data.retryAfter : undefined;
    return {
      kind: "failed",
      message: `The API rate-limited this dashboard (429)${retryAfter !== undefined ? `; it allows the next call in ${retryAfter} s` : ""}`,
    };
  }
  if (status === undefined || status === 502 || status === 503 || status === 504) {
    return { kind: "unreachable", message: `The API did not answer (${message})` };
  }
  return { kind: "failed", message: `The API answered with an error (${status}): ${message}` };
}

/** The most important of several problems: unauthorized, then unreachable, then failed. */
export function worstProblem(problems: readonly (Problem | null)[]): Problem | null {
  const order: ProblemKind[] = ["unauthorized", "unreachable", "failed"];
  for (const kind of order) {
    const found = problems.find((p) => p?.kind === kind);
    if (found) return found;
  }
  return null;
}
