import { formatClock } from "../format.ts";
import type { ChartPalette } from "./use-color-scheme.ts";

/** Margins of every time chart on the page. */
export const CHART_MARGIN = { top: 8, right: 8, bottom: 0, left: 0 };

/** Props of the time (x) axis every chart shares: minute buckets `t` (ms) as clock times. */
export function timeAxisProps(palette: ChartPalette, withSeconds: boolean) {
  return {
    dataKey: "t",
    tickFormatter: (t: number) => formatClock(t, undefined, withSeconds),
    stroke: palette.text,
    tick: { fill: palette.text, fontSize: 12 },
    minTickGap: 24,
  };
}

/** Props of a value (y) axis: `format` for its ticks, `width` in px. */
export function valueAxisProps(
  palette: ChartPalette,
  format: (v: number) => string,
  width: number,
) {
  return {
    tickFormatter: format,
    stroke: palette.text,
    tick: { fill: palette.text, fontSize: 12 },
    width,
  };
}
