/** One labelled sample. */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/** One labelled histogram: cumulative counts per upper bound (seconds), sum and count. */
export interface HistogramSample {
  labels: Record<string, string>;
  /** Ascending finite upper bounds with the count of observations `<=` each (cumulative). */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** A metric family for {@link HttpMetrics.render}: counters and gauges, or histograms. */
export type MetricFamily =
  | { name: string; help: string; type: "counter" | "gauge"; samples: MetricSample[] }
  | { name: string; help: string; type: "histogram"; samples: HistogramSample[] };

/** In-process request counters rendered in the Prometheus text format (one registry per process). */
export interface HttpMetrics {
  /** Records one finished request. */
  observe(route: string, status: number, durationSeconds: number): void;
  /** Prometheus text exposition, with extra families (dependency gauges, package counters) appended. */
  render(families?: MetricFamily[]): string;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

/** Creates an {@link HttpMetrics} registry (`hotpath_api_requests_total`, `hotpath_api_request_duration_seconds`). */
export function createHttpMetrics(): HttpMetrics {
  const requests = new Map<string, { route: string; status: string; count: number }>();
  const durations = new Map<string, { buckets: number[]; sum: number; count: number }>();
  return {
    observe(route, status, seconds) {
      const key = `${route} ${status}`;
      const row = requests.get(key) ?? { route, status: String(status), count: 0 };
      row.count += 1;
      requests.set(key, row);
      const histogram = durations.get(route) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      BUCKETS.forEach((bound, index) => {
        if (seconds <= bound) histogram.buckets[index] = (histogram.buckets[index] ?? 0) + 1;
      });
      histogram.sum += seconds;
      histogram.count += 1;
      durations.set(route, histogram);
    },
    render(families = []) {
      const own: MetricFamily[] = [
        {
          name: "hotpath_api_requests_total",
          help: "HTTP requests handled by this API process.",
          type: "counter",
          samples: [...requests.values()].map((row) => ({
            labels: { route: row.route, status: row.status },
            value: row.count,
          })),
        },
        {
          name: "hotpath_api_request_duration_seconds",
          help: "Request duration in seconds.",
          type: "histogram",
          samples: [...durations].map(([route, histogram]) => ({
            labels: { route },
            buckets: BUCKETS.map((le, index) => ({ le, count: histogram.buckets[index] ?? 0 })),
            sum: histogram.sum,
            count: histogram.count,
          })),
        },
      ];
      return `${[...own, ...families].flatMap(familyLines).join("\n")}\n`;
    },
  };
}

/** The exposition lines of one family (`_bucket{le}`, `_sum`, `_count` for a histogram). */
function familyLines(family: MetricFamily): string[] {
  const lines = [`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`];
  if (family.type !== "histogram") {
    for (const sample of family.samples)
      lines.push(`${family.name}${labelText(sample.labels)} ${sample.value}`);
    return lines;
  }
  for (const sample of family.samples) {
    for (const bucket of sample.buckets) {
      lines.push(
        `${family.name}_bucket${labelText({ ...sample.labels, le: String(bucket.le) })} ${bucket.count}`,
      );
    }
    lines.push(
      `${family.name}_bucket${labelText({ ...sample.labels, le: "+Inf" })} ${sample.count}`,
      `${family.name}_sum${labelText(sample.labels)} ${sample.sum}`,
      `${family.name}_count${labelText(sample.labels)} ${sample.count}`,
    );
  }
  return lines;
}
