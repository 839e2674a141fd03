/** One labelled sample. */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/** A metric family for {@link HttpMetrics.render}. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: MetricSample[];
}

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
      const lines: string[] = [
        "# HELP hotpath_api_requests_total HTTP requests handled by this API process.",
        "# TYPE hotpath_api_requests_total counter",
      ];
      for (const row of requests.values()) {
        lines.push(
          `hotpath_api_requests_total${labelText({ route: row.route, status: row.status })} ${row.count}`,
        );
      }
      lines.push(
        "# HELP hotpath_api_request_duration_seconds Request duration in seconds.",
        "# TYPE hotpath_api_request_duration_seconds histogram",
      );
      for (const [route, histogram] of durations) {
        BUCKETS.forEach((bound, index) => {
          lines.push(
            `hotpath_api_request_duration_seconds_bucket${labelText({ route, le: String(bound) })} ${histogram.buckets[index] ?? 0}`,
          );
        });
        lines.push(
          `hotpath_api_request_duration_seconds_bucket${labelText({ route, le: "+Inf" })} ${histogram.count}`,
        );
        lines.push(
          `hotpath_api_request_duration_seconds_sum${labelText({ route })} ${histogram.sum}`,
        );
        lines.push(
          `hotpath_api_request_duration_seconds_count${labelText({ route })} ${histogram.count}`,
        );
      }
      for (const family of families) {
        lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
        for (const sample of family.samples)
          lines.push(`${family.name}${labelText(sample.labels)} ${sample.value}`);
      }
      return `${lines.join("\n")}\n`;
    },
  };
}
