import { defaultClientConditions, defaultServerConditions, type Plugin } from "vite";

/**
 * The export condition that points a Hotpath package at its TypeScript source inside this
 * repository, so tests, `pnpm dev` and typechecks need no build: tsconfig `customConditions`,
 * `node --conditions` (next to tsx) and {@link sourceCondition} for vite/vitest. Consumers outside
 * the repository never set it and get the built `dist/`. A name of our own rather than
 * `development`: third-party packages use `development` for their own dev builds, and vite turns
 * that one on or off with NODE_ENV (a production dashboard build would otherwise need `dist/`).
 */
export const SOURCE_CONDITION = "@hotpath/source";

/**
 * Vite plugin (dev server, build, vitest): resolves Hotpath packages through
 * {@link SOURCE_CONDITION} in every environment, before vite's default conditions.
 */
export function sourceCondition(): Plugin {
  return {
    name: "hotpath:source-condition",
    configEnvironment(name, config) {
      const defaults =
        (config.consumer ?? (name === "client" ? "client" : "server")) === "client"
          ? defaultClientConditions
          : defaultServerConditions;
      const conditions = config.resolve?.conditions ?? defaults;
      if (conditions.includes(SOURCE_CONDITION)) return;
      config.resolve = { ...config.resolve, conditions: [SOURCE_CONDITION, ...conditions] };
    },
  };
}
