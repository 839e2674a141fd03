import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** One Lua script of `@upstash/ratelimit` with the sha1 the SDK precomputed for it. */
export interface PublishedScript {
  name: string;
  script: string;
  hash: string;
}

/**
 * The Lua scripts shipped in the published `@upstash/ratelimit` bundle (they are not exported):
 * the bundle's `lua-scripts` section is evaluated on its own, so the texts are byte-for-byte the
 * ones the SDK sends, shebang included.
 */
export function publishedRatelimitScripts(): PublishedScript[] {
  const require = createRequire(import.meta.url);
  const bundle = readFileSync(require.resolve("@upstash/ratelimit"), "utf8");
  const start = bundle.indexOf("// src/lua-scripts/single.ts");
  const end = bundle.indexOf("// src/types.ts");
  if (start < 0 || end < start)
    throw new Error("@upstash/ratelimit bundle layout changed: lua-scripts section not found");
  type Entry = { script: string; hash: string };
  const section = bundle.slice(start, end);
  type Loaded = {
    SCRIPTS: Record<string, Record<string, Record<string, Entry>>>;
    RESET_SCRIPT: Entry;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the SDK's own constants
  const evaluate = new Function(`${section}\nreturn { SCRIPTS, RESET_SCRIPT };`) as () => Loaded;
  const loaded = evaluate();
  const scripts: PublishedScript[] = [{ name: "reset", ...loaded.RESET_SCRIPT }];
  for (const [region, algorithms] of Object.entries(loaded.SCRIPTS)) {
    for (const [algorithm, kinds] of Object.entries(algorithms)) {
      for (const [kind, entry] of Object.entries(kinds))
        scripts.push({ name: `${region}.${algorithm}.${kind}`, ...entry });
    }
  }
  return scripts;
}
