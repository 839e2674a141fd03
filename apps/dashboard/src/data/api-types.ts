/**
 * The API's types, imported as types only: `import type` is erased at build time, so the bundle
 * holds no server code (the e2e/bundle check asserts it).
 */
export type { AppRouter } from "@hotpath/api/router";
import type { AppRouter } from "@hotpath/api/router";
import type { inferRouterOutputs } from "@trpc/server";

/** Outputs of every procedure. */
export type ApiOutputs = inferRouterOutputs<AppRouter>;
