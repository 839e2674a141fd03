import type { UserConfig } from "tsdown";

/**
 * tsdown options of a publishable Hotpath library: ESM + `.d.ts` per entry in `dist/`,
 * dependencies left external, no minification (readable stack traces for the teams using it).
 * `platform: "neutral"` for the runtime-agnostic packages (they must bundle for edge runtimes);
 * `"node"` for the servers.
 */
export function libraryBuild(options: {
  /** Directory of the package (the config file's `import.meta.dirname`). */
  cwd: string;
  /** Entry points, e.g. `{ index: "src/index.ts" }` (one per `exports` subpath). */
  entry: Record<string, string>;
  platform: "neutral" | "node";
}): UserConfig {
  return {
    cwd: options.cwd,
    entry: options.entry,
    platform: options.platform,
    format: "esm",
    dts: true,
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
  };
}
