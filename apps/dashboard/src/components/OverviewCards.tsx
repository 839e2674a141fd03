import { formatCount, formatLatency, formatRatio } from "../format.ts";
import type { DependencyHealth, Overview } from "../model.ts";

/** Props of {@link OverviewCards}. */
export interface OverviewCardsProps {
  overview: Overview | undefined;
  rangeLabel: string;
  /** False while the API does not answer: dependency health is then unknown, not "Up". */
  apiReachable?: boolean;
}

interface CardProps {
  id: string;
  label: string;
  value: string;
  detail?: string;
  tone?: "good" | "bad" | "neutral";
}

function Card({ id, label, value, detail, tone = "neutral" }: CardProps) {
  return (
    <div className={`card card-${tone}`} data-testid={`card-${id}`}>
      <dt>{label}</dt>
      <dd>
        <span className="card-value" data-testid={`card-${id}-value`}>
          {value}
        </span>
        {detail ? (
          <span className="card-detail" data-testid={`card-${id}-detail`}>
            {detail}
          </span>
        ) : null}
      </dd>
    </div>
  );
}

function healthCard(
  id: string,
  label: string,
  health: DependencyHealth | undefined,
  apiReachable: boolean,
) {
  if (!apiReachable)
    return <Card id={id} label={label} value="Unknown" detail="API unreachable" tone="bad" />;
  if (!health) return <Card id={id} label={label} value="…" />;
  return (
    <Card
      id={id}
      label={label}
      value={health.ok ? "Up" : "Down"}
      detail={health.ok ? formatLatency(health.latencyMs) : (health.detail ?? "no answer")}
      tone={health.ok ? "good" : "bad"}
    />
  );
}

/** The summary cards: hit ratio, requests, blocked share, idempotent replays, Redis and DB health. */
export function OverviewCards({ overview, rangeLabel, apiReachable = true }: OverviewCardsProps) {
  const o = overview;
  return (
    <dl className="cards" aria-label={`Summary over the last ${rangeLabel}`}>
      <Card
        id="hit-ratio"
        label="Cache hit ratio"
        value={o ? formatRatio(o.cacheHitRatio) : "…"}
        detail={o ? `${formatCount(o.cacheRequests)} cache lookups` : undefined}
      />
      <Card
        id="requests"
        label="Rate-limited requests"
        value={o ? formatCount(o.rateLimitRequests) : "…"}
        detail={o ? `${formatCount(o.rateLimitRequests - o.blocked)} allowed` : undefined}
      />
      <Card
        id="blocked"
        label="Blocked"
        value={o ? formatRatio(o.blockedShare) : "…"}
        detail={o ? `${formatCount(o.blocked)} blocked` : undefined}
        tone={o && o.blocked > 0 ? "bad" : "neutral"}
      />
      <Card
        id="replays"
        label="Idempotent replays"
        value={o ? formatCount(o.idempotentReplays) : "…"}
        detail={
          o
            ? `${formatCount(o.idempotentFirst)} first, ${formatCount(o.idempotentConflicts)} conflicts`
            : undefined
        }
      />
      {healthCard("redis", "Redis", o?.redis, apiReachable)}
      {healthCard("db", "Database", o?.db, apiReachable)}
    </dl>
  );
}
