import { defineConfig } from "tsdown";
import { libraryBuild } from "../../tsdown.shared.ts";

export default defineConfig(
  libraryBuild({
    cwd: import.meta.dirname,
    platform: "neutral",
  }),
);
