import { useSyncExternalStore } from "react";

/** Colours of chart marks for one colour scheme (SVG fills need concrete colours). */
export interface ChartPalette {
  hit: string;
  stale: string;
  miss: string;
  allowed: string;
  blocked: string;
  grid: string;
  text: string;
  cursor: string;
}

// Chosen for contrast against the page background of each scheme (WCAG 3:1 for graphics) and so
// that hit/allowed vs miss/blocked also differ in lightness, not only in hue.
const LIGHT: ChartPalette = {
  hit: "#1a7f37",
  stale: "#9a6700",
  miss: "#cf222e",
  allowed: "#0969da",
  blocked: "#cf222e",
  grid: "#d0d7de",
  text: "#424a53",
  cursor: "rgba(0,0,0,0.06)",
};
const DARK: ChartPalette = {
  hit: "#3fb950",
  stale: "#d29922",
  miss: "#ff7b72",
  allowed: "#58a6ff",
  blocked: "#ff7b72",
  grid: "#30363d",
  text: "#c9d1d9",
  cursor: "rgba(255,255,255,0.08)",
};

const QUERY = "(prefers-color-scheme: dark)";

function subscribe(onChange: () => void): () => void {
  if (typeof matchMedia !== "function") return () => undefined;
  const media = matchMedia(QUERY);
  media.addEventListener("change", onChange);
  return () => media.removeEventListener("change", onChange);
}

function isDark(): boolean {
  return typeof matchMedia === "function" && matchMedia(QUERY).matches;
}

/** The chart palette of the current `prefers-color-scheme`, updated when the system switches. */
export function useChartPalette(): ChartPalette {
  const dark = useSyncExternalStore(subscribe, isDark, () => false);
  return dark ? DARK : LIGHT;
}
