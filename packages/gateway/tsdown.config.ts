import { defineConfig } from "tsdown";
import { libraryBuild } from "../../tsdown.shared.ts";

export default defineConfig(
  libraryBuild({
    cwd: import.meta.dirname,
    platform: "node",
    // The bin runs the built CLI.
    extraEntries: { cli: "src/cli.ts" },
  }),
);
