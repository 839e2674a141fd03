/** View model of the latency view; src/data/adapt-latency.ts builds it from `metrics.latency`. */

/** p50/p99 of one procedure in one minute (ms). */
export interface LatencyPointView {
  t: number;
  p50: number | null;
  p99: number | null;
}

/** One procedure over the range: calls, quantiles, where its time went, and its minutes. */
export interface ProcedureLatencyView {
  procedure: string;
  calls: number;
  p50: number | null;
  p99: number | null;
  /** Shares (0–1) of its time waiting on Redis, on the database, and the rest; null if not measured. */
  share: { redis: number; db: number; other: number } | null;
  series: LatencyPointView[];
}
