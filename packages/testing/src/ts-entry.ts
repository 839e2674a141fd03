/**
 * Node arguments that run a TypeScript entry point of this repository as tests and `pnpm dev` do:
 * Hotpath packages resolved to their source (the `@hotpath/source` export condition, see
 * source-condition.ts at the root) and loaded through tsx's hook (no tsx CLI in between, so
 * signals reach the process itself). Usage: `spawn(process.execPath, [...TS_ENTRY_ARGS, file])`.
 */
export const TS_ENTRY_ARGS: readonly string[] = ["--conditions=@hotpath/source", "--import", "tsx"];
