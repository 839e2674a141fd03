/** Turns the API's `metrics.latency` output into the latency view model (src/latency-model.ts). */
import type { ProcedureLatencyView } from "../latency-model.ts";
import type { ApiOutputs } from "./api-types.ts";

type LatencyReport = ApiOutputs["metrics"]["latency"];

/** Procedures slowest first, as the API orders them (p99, then p50). */
export function procedureLatencies(data: LatencyReport): ProcedureLatencyView[] {
  return data.procedures.map((p) => ({
    procedure: p.procedure,
    calls: p.count,
    p50: p.p50,
    p99: p.p99,
    share: p.share ? { redis: p.share.redis, db: p.share.db, other: p.share.other } : null,
    series: p.series.map((point) => ({ t: point.minute, p50: point.p50, p99: point.p99 })),
  }));
}
