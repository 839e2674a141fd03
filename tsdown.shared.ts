import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { UserConfig } from "tsdown";

/** One subpath of a package's `exports`: its source (our condition) and its built file. */
type ExportTarget = { "@hotpath/source"?: string; default?: string } | string;

/**
 * The entry points of a package, read from its `exports` so the two cannot drift apart: every
 * subpath with a `@hotpath/source` file builds to the `default` file it names (`./dist/x.js` ←
 * `./src/x.ts`).
 */
function entriesOfExports(cwd: string): Record<string, string> {
  const manifest = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8")) as {
    exports?: Record<string, ExportTarget>;
  };
  const entries: Record<string, string> = {};
  for (const target of Object.values(manifest.exports ?? {})) {
    if (typeof target === "string") continue;
    const source = target["@hotpath/source"];
    const built = target.default;
    if (source !== undefined && built !== undefined) entries[basename(built, ".js")] = source;
  }
  return entries;
}

/** What every Hotpath build shares: ESM in `dist/`, no source maps, quiet. */
const SHARED_OPTIONS = {
  format: "esm",
  sourcemap: false,
  clean: true,
  outDir: "dist",
  // `.js`/`.d.ts` on every platform: the packages are `"type": "module"`.
  fixedExtension: false,
  // Declaration generation dominates build time by design; no per-build report of it.
  checks: { pluginTimings: false },
  // The tsconfig resolves our own packages through their source condition; the declarations
  // then import them by package name (external), as the JavaScript does.
  tsconfig: "tsconfig.json",
  logLevel: "warn",
} as const satisfies UserConfig;

/**
 * tsdown options of a publishable Hotpath library: ESM + `.d.ts` per `exports` entry in `dist/`,
 * dependencies left external, no minification (readable stack traces for the teams using it).
 * `platform: "neutral"` for the runtime-agnostic packages (they must bundle for edge runtimes);
 * `"node"` for the servers.
 */
export function libraryBuild(options: {
  /** Directory of the package (the config file's `import.meta.dirname`). */
  cwd: string;
  /** Entry points beyond the `exports` subpaths (e.g. `{ cli: "src/cli.ts" }` behind a bin). */
  extraEntries?: Record<string, string>;
  platform: "neutral" | "node";
}): UserConfig {
  return {
    cwd: options.cwd,
    entry: { ...entriesOfExports(options.cwd), ...options.extraEntries },
    platform: options.platform,
    dts: true,
    ...SHARED_OPTIONS,
  };
}

/**
 * tsdown options of a deployable Hotpath app (the API): the named entries to ESM in `dist/`,
 * dependencies left external so they resolve at run time (our libraries through their built
 * `default` export), no declarations (nobody imports an app's build), unminified.
 */
export function appBuild(options: {
  /** Directory of the app (the config file's `import.meta.dirname`). */
  cwd: string;
  /** Entry points, e.g. `{ main: "src/main.ts" }` → `dist/main.js`. */
  entries: Record<string, string>;
}): UserConfig {
  return {
    cwd: options.cwd,
    entry: options.entries,
    platform: "node",
    dts: false,
    ...SHARED_OPTIONS,
  };
}
