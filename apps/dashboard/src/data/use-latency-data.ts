import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useMemo } from "react";
import type { ProcedureLatencyView } from "../latency-model.ts";
import { RANGE_MS, type RangeKey } from "../model.ts";
import { procedureLatencies } from "./adapt-latency.ts";
import { classifyError, type Problem } from "./errors.ts";
import { metricsRefreshMs } from "./refresh.ts";
import { useTRPC } from "./trpc.ts";

/** The latency view's procedures (slowest first) and the problem reading them, if any. */
export interface LatencyData {
  procedures: ProcedureLatencyView[] | undefined;
  problem: Problem | null;
}

/** Polls `metrics.latency` for the range, at the same pace as the other time series. */
export function useLatencyData(options: {
  range: RangeKey;
  pollIntervalMs: number;
  enabled: boolean;
}): LatencyData {
  const trpc = useTRPC();
  const latency = useQuery({
    ...trpc.metrics.latency.queryOptions({ minutes: RANGE_MS[options.range] / 60_000 }),
    enabled: options.enabled,
    refetchInterval: metricsRefreshMs(options.range, options.pollIntervalMs),
    placeholderData: keepPreviousData,
  });
  return {
    procedures: useMemo(
      () => (latency.data ? procedureLatencies(latency.data) : undefined),
      [latency.data],
    ),
    problem: latency.isError ? classifyError(latency.error) : null,
  };
}
