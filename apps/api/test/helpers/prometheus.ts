/** One sample line of a Prometheus text exposition. */
export interface ExpositionSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: the samples and the `# TYPE` of each family. */
export interface Exposition {
  samples: ExpositionSample[];
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format (0.0.4); throws on a line it cannot read. */
export function parseExposition(text: string): Exposition {
  const samples: ExpositionSample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type?.[1] && type[2]) types.set(type[1], type[2]);
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match?.[1] || match[3] === undefined) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(LABEL))
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, "$1");
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return { samples, types };
}
