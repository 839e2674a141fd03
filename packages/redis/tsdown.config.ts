import { defineConfig } from "tsdown";
import { libraryBuild } from "../../tsdown.shared.ts";

export default defineConfig(
  libraryBuild({
    cwd: import.meta.dirname,
    entry: {
      index: "src/index.ts",
      internal: "src/internal.ts",
      timeout: "src/timeout.ts",
      tracing: "src/tracing.ts",
    },
    platform: "node",
  }),
);
