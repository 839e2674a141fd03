import { useMemo, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from "recharts";
import { formatCount, formatDateTime, formatLatency, formatRatio } from "../format.ts";
import type { ProcedureLatencyView } from "../latency-model.ts";
import { CHART_MARGIN, timeAxisProps, valueAxisProps } from "./chart-axes.ts";
import { Panel } from "./Panel.tsx";
import { SeriesSelect } from "./SeriesSelect.tsx";
import { useChartPalette } from "./use-color-scheme.ts";

/** Props of {@link LatencyPanel}. */
export interface LatencyPanelProps {
  /** Procedures slowest first; undefined while loading. */
  procedures: readonly ProcedureLatencyView[] | undefined;
  withSeconds: boolean;
}

/** Where a procedure's time went: Redis, the database, the rest, as text and one stacked bar. */
function ShareBar({ share }: { share: NonNullable<ProcedureLatencyView["share"]> }) {
  const parts = [
    { key: "redis", label: "Redis", value: share.redis },
    { key: "db", label: "Database", value: share.db },
    { key: "other", label: "Other", value: share.other },
  ];
  return (
    <p className="latency-share" data-testid="latency-share">
      <span className="share-stack" aria-hidden="true">
        {parts.map((part) => (
          <span
            key={part.key}
            className={`share-${part.key}`}
            style={{ width: `${(part.value * 100).toFixed(1)}%` }}
          />
        ))}
      </span>
      {parts.map((part) => `${part.label} ${formatRatio(part.value)}`).join(" · ")}
    </p>
  );
}

/**
 * Latency per tRPC procedure: p50/p99 over time for one procedure (the slowest by default), its
 * share of time waiting on Redis vs the database, and every procedure slowest first.
 */
export function LatencyPanel({ procedures, withSeconds }: LatencyPanelProps) {
  const palette = useChartPalette();
  const [picked, setPicked] = useState<string | null>(null);
  const names = useMemo(() => (procedures ?? []).map((p) => p.procedure), [procedures]);
  const selected =
    (procedures ?? []).find((p) => p.procedure === picked) ?? (procedures ?? [])[0] ?? null;
  return (
    <Panel
      id="latency"
      title="Latency"
      className="panel-wide"
      loading={procedures === undefined}
      empty={
        procedures !== undefined && procedures.length === 0 && "No calls timed in this range yet."
      }
      actions={
        <SeriesSelect
          label="Procedure"
          options={names}
          value={selected && picked === selected.procedure ? picked : null}
          onChange={setPicked}
          allLabel="Slowest"
        />
      }
    >
      {selected ? (
        <>
          <h3 className="latency-title" data-testid="latency-selected">
            {selected.procedure}
          </h3>
          <div className="chart" style={{ height: 220 }}>
            <LineChart
              responsive
              data={selected.series}
              style={{ width: "100%", height: "100%" }}
              accessibilityLayer
              desc={`p50 and p99 latency over time of ${selected.procedure}.`}
              margin={CHART_MARGIN}
            >
              <CartesianGrid stroke={palette.grid} vertical={false} />
              <XAxis {...timeAxisProps(palette, withSeconds)} />
              <YAxis {...valueAxisProps(palette, formatLatency, 64)} />
              <Tooltip
                labelFormatter={(t) => formatDateTime(Number(t))}
                formatter={(value) => formatLatency(Number(value))}
              />
              <Legend />
              {(["p50", "p99"] as const).map((key) => (
                <Line
                  key={key}
                  type="monotone"
                  dataKey={key}
                  name={key}
                  stroke={key === "p50" ? palette.allowed : palette.blocked}
                  dot={false}
                  isAnimationActive={false}
                  connectNulls={false}
                />
              ))}
            </LineChart>
          </div>
          {selected.share ? (
            <ShareBar share={selected.share} />
          ) : (
            <p className="latency-share">Redis and database waits not measured.</p>
          )}
        </>
      ) : null}
      <table className="data-table" data-testid="latency-table">
        <caption>Slowest procedures (by p99, then p50)</caption>
        <thead>
          <tr>
            <th scope="col">Procedure</th>
            <th scope="col" className="num">
              Calls
            </th>
            <th scope="col" className="num">
              p50
            </th>
            <th scope="col" className="num">
              p99
            </th>
            <th scope="col" className="num">
              Redis
            </th>
            <th scope="col" className="num">
              Database
            </th>
          </tr>
        </thead>
        <tbody>
          {(procedures ?? []).map((p) => (
            <tr key={p.procedure} data-procedure={p.procedure}>
              <th scope="row" className="mono">
                {p.procedure}
              </th>
              <td className="num">{formatCount(p.calls)}</td>
              <td className="num">{formatLatency(p.p50)}</td>
              <td className="num">{formatLatency(p.p99)}</td>
              <td className="num">{formatRatio(p.share?.redis)}</td>
              <td className="num">{formatRatio(p.share?.db)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}
