import { defineConfig } from "tsdown";
import { libraryBuild } from "../../tsdown.shared.ts";

export default defineConfig(
  libraryBuild({
    cwd: import.meta.dirname,
    entry: {
      index: "src/index.ts",
    },
    platform: "neutral",
  }),
);
