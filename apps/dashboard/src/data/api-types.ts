/**
 * The API's types, imported as types only: `import type` is erased at build time, so the bundle
 * holds no server code (the browser test checks the built files).
 */
import type { RouterOutputs } from "@hotpath/api/router";

export type { AppRouter } from "@hotpath/api/router";

/** Outputs of every procedure, e.g. `ApiOutputs["metrics"]["overview"]`. */
export type ApiOutputs = RouterOutputs;
