import { defineConfig } from "tsdown";
import { libraryBuild } from "../../tsdown.shared.ts";

export default defineConfig(
  libraryBuild({
    cwd: import.meta.dirname,
    entry: {
      index: "src/index.ts",
      cli: "src/cli.ts",
    },
    platform: "node",
  }),
);
