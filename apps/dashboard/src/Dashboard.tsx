import { useMemo, useState, useSyncExternalStore } from "react";
import { AdminPanel } from "./components/AdminPanel.tsx";
import { AuditPanel } from "./components/AuditPanel.tsx";
import { CachePanel } from "./components/CachePanel.tsx";
import { FeedPanel } from "./components/FeedPanel.tsx";
import { JobsPanel } from "./components/JobsPanel.tsx";
import { KeysPanel } from "./components/KeysPanel.tsx";
import { LatencyPanel } from "./components/LatencyPanel.tsx";
import { LeaderboardPanel } from "./components/LeaderboardPanel.tsx";
import { OverviewCards } from "./components/OverviewCards.tsx";
import { ProblemBanner } from "./components/ProblemBanner.tsx";
import { RangeSelector } from "./components/RangeSelector.tsx";
import { RateLimitPanel } from "./components/RateLimitPanel.tsx";
import { TokenForm } from "./components/TokenForm.tsx";
import { UpdatedAgo } from "./components/UpdatedAgo.tsx";
import { worstProblem } from "./data/errors.ts";
import type { TokenStore } from "./data/token-store.ts";
import { useAdminData } from "./data/use-admin-data.ts";
import { useDashboardData } from "./data/use-dashboard-data.ts";
import { useJobsData } from "./data/use-jobs-data.ts";
import { useLatencyData } from "./data/use-latency-data.ts";
import { RANGE_LABEL, RANGE_MS, type Period, type RangeKey } from "./model.ts";
import { windowEndingAt } from "./shaping/time-buckets.ts";

/** Props of {@link Dashboard}. */
export interface DashboardProps {
  tokenStore: TokenStore;
  pollIntervalMs: number;
}

/** The whole page: header (range, freshness, token), banner, cards and panels. */
export function Dashboard({ tokenStore, pollIntervalMs }: DashboardProps) {
  const token = useSyncExternalStore(tokenStore.subscribe, tokenStore.get, tokenStore.get);
  const [range, setRange] = useState<RangeKey>("15m");
  const [period, setPeriod] = useState<Period>("daily");
  const data = useDashboardData({ range, period, pollIntervalMs, enabled: token !== null });
  const jobs = useJobsData({ range, pollIntervalMs, enabled: token !== null });
  // The identifier the admin actions act on, and the one whose quota is shown.
  const [identifier, setIdentifier] = useState("");
  const [quotaFor, setQuotaFor] = useState<string | null>(null);
  const admin = useAdminData({ pollIntervalMs, enabled: token !== null, quotaFor });
  const actOn = (picked: string) => {
    setIdentifier(picked);
    setQuotaFor(picked);
    document.getElementById("admin")?.scrollIntoView?.({ block: "start" });
  };
  const latency = useLatencyData({ range, pollIntervalMs, enabled: token !== null });
  const problem = worstProblem([data.problem, jobs.problem, admin.problem, latency.problem]);
  const bucketMs = data.model?.bucketMs ?? 60_000;
  const window = useMemo(
    () => windowEndingAt(data.updatedAt || Date.now(), RANGE_MS[range], bucketMs),
    [data.updatedAt, range, bucketMs],
  );

  const header = (
    <header className="app-header">
      <h1>
        Hotpath <span>operations</span>
      </h1>
      <RangeSelector value={range} onChange={setRange} />
      <UpdatedAgo updatedAt={data.updatedAt} refreshing={data.fetching} />
      {token !== null ? (
        <button type="button" onClick={() => tokenStore.set(null)}>
          Forget token
        </button>
      ) : null}
    </header>
  );

  if (token === null || problem?.kind === "unauthorized") {
    return (
      <>
        {header}
        <TokenForm
          rejected={token !== null}
          message={
            token === null
              ? "Enter the admin token (ADMIN_TOKEN of the API) to see metrics."
              : (problem?.message ?? "The admin token was rejected.")
          }
          onSubmit={(value) => tokenStore.set(value)}
        />
      </>
    );
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      {header}
      <main id="main" className={problem ? "stale" : undefined}>
        <ProblemBanner
          problem={problem}
          lastGoodAt={data.updatedAt}
          retryEveryMs={pollIntervalMs}
        />
        <div className="cards-wrap">
          <OverviewCards
            overview={data.model?.overview}
            rangeLabel={RANGE_LABEL[range]}
            apiReachable={problem?.kind !== "unreachable"}
          />
        </div>
        <CachePanel points={data.model?.cache} window={window} withSeconds={false} />
        <RateLimitPanel
          points={data.model?.rateLimit}
          topBlocked={data.model?.topBlocked}
          topAllowed={data.model?.topAllowed}
          window={window}
          withSeconds={false}
          onSelectIdentifier={actOn}
        />
        <LatencyPanel procedures={latency.procedures} withSeconds={false} />
        <LeaderboardPanel period={period} onPeriodChange={setPeriod} entries={data.leaderboard} />
        <FeedPanel items={data.feed} />
        <JobsPanel
          model={jobs.model}
          dlq={jobs.dlq}
          dlqTruncated={jobs.dlqTruncated}
          window={window}
          withSeconds={false}
          onDlqAction={jobs.act}
        />
        <KeysPanel keys={data.model?.keys} />
        <AdminPanel
          identifier={identifier}
          onIdentifierChange={setIdentifier}
          onLookup={() => setQuotaFor(identifier.trim())}
          quotaFor={quotaFor}
          quota={admin.quota}
          quotaError={admin.quotaError}
          controls={admin.controls}
          run={admin.run}
        />
        <AuditPanel rows={admin.audit} paging={admin.auditPaging} />
      </main>
    </>
  );
}
