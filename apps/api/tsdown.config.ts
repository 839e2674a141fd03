import { defineConfig } from "tsdown";
import { appBuild } from "../../tsdown.shared.ts";

// `start` runs dist/main.js and `seed:built` dist/cli.js on plain Node (no tsx).
export default defineConfig(
  appBuild({ cwd: import.meta.dirname, entries: { main: "src/main.ts", cli: "src/cli.ts" } }),
);
