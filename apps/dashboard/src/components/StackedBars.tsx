import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { formatCompact, formatCount, formatDateTime } from "../format.ts";
import { CHART_MARGIN, timeAxisProps, valueAxisProps } from "./chart-axes.ts";
import type { ChartPalette } from "./use-color-scheme.ts";

/** One stacked series: a numeric field of the rows, its legend label and palette colour. */
export interface StackSeries<TRow> {
  key: keyof TRow & string;
  label: string;
  color: keyof ChartPalette;
  /** Series with the same stack share one bar; a different stack draws a bar beside it. @default "stack" */
  stack?: string;
}

/** Props of {@link StackedBars}. */
export interface StackedBarsProps<TRow extends { t: number }> {
  rows: readonly TRow[];
  series: readonly StackSeries<TRow>[];
  palette: ChartPalette;
  /** Accessible description of the chart (read by screen readers). */
  description: string;
  /** Show seconds on the x axis (short ranges). */
  withSeconds?: boolean;
  height?: number;
}

/**
 * Stacked bars over time (Recharts). Animation is off so a refresh swaps the bars in place without
 * flicker; the accessibility layer makes the chart focusable and walkable with the arrow keys.
 */
export function StackedBars<TRow extends { t: number }>({
  rows,
  series,
  palette,
  description,
  withSeconds = false,
  height = 240,
}: StackedBarsProps<TRow>) {
  return (
    <div className="chart" style={{ height }}>
      <BarChart
        responsive
        data={rows}
        style={{ width: "100%", height: "100%" }}
        accessibilityLayer
        desc={description}
        margin={CHART_MARGIN}
        barCategoryGap={1}
      >
        <CartesianGrid stroke={palette.grid} vertical={false} />
        <XAxis {...timeAxisProps(palette, withSeconds)} />
        <YAxis allowDecimals={false} {...valueAxisProps(palette, formatCompact, 48)} />
        <Tooltip
          cursor={{ fill: palette.cursor }}
          labelFormatter={(t) => (typeof t === "number" ? formatDateTime(t) : "")}
          formatter={(value) => (typeof value === "number" ? formatCount(value) : String(value))}
          contentStyle={{
            background: "var(--surface)",
            border: "1px solid var(--border)",
            color: "var(--text)",
          }}
        />
        <Legend wrapperStyle={{ color: palette.text }} />
        {series.map((s) => (
          <Bar
            key={s.key}
            dataKey={(row: TRow) => row[s.key]}
            name={s.label}
            stackId={s.stack ?? "stack"}
            fill={palette[s.color]}
            isAnimationActive={false}
          />
        ))}
      </BarChart>
    </div>
  );
}
