import type { Problem } from "../data/errors.ts";
import { formatAgo } from "../format.ts";
import { useNow } from "./use-now.ts";

/** Props of {@link ProblemBanner}. */
export interface ProblemBannerProps {
  problem: Problem | null;
  /** Epoch ms of the last good data still shown, 0 when none. */
  lastGoodAt: number;
  retryEveryMs: number;
}

/**
 * The page-level error banner (role="alert"). It disappears by itself once a refresh succeeds,
 * since polling keeps running while the API is down.
 */
export function ProblemBanner({ problem, lastGoodAt, retryEveryMs }: ProblemBannerProps) {
  const now = useNow(1000);
  if (!problem || problem.kind === "unauthorized") return null;
  const title = problem.kind === "unreachable" ? "API unreachable" : "API error";
  return (
    <div
      className="banner banner-error"
      role="alert"
      data-testid="error-banner"
      data-kind={problem.kind}
    >
      <strong>{title}.</strong> {problem.message}. Retrying every {Math.round(retryEveryMs / 1000)}{" "}
      s{lastGoodAt > 0 ? `; showing data from ${formatAgo(now - lastGoodAt)}` : ""}.
    </div>
  );
}
