import { SCAN_WITH_TYPE_SCRIPT } from "@hotpath/redis/internal";

/*
 * Emulation of Upstash-only command options that real Redis rejects. Today: `SCAN … WITHTYPE`,
 * which Upstash answers as `[cursor, [key1, type1, key2, type2, …]]` (the SDK's
 * `scan(cursor, { withType: true })`). It runs as one Lua script, SCAN then TYPE per key
 * (SCAN_WITH_TYPE_SCRIPT, which the cluster executor also recognises to scan every master).
 */

function isScan(name: unknown): boolean {
  return typeof name === "string" && name.length === 4 && name.toLowerCase() === "scan";
}

/**
 * Returns the command Redis should run for an Upstash REST command: the same array, or a
 * rewrite for an Upstash-only option (see {@link SCAN_WITH_TYPE_SCRIPT}). Cheap for every other command.
 */
export function emulateUpstashOnly(command: unknown[]): unknown[] {
  if (!isScan(command[0]) || command.length < 3) return command;
  const kept: unknown[] = [];
  let withType = false;
  for (let i = 2; i < command.length; i += 1) {
    const arg = command[i];
    const lower = typeof arg === "string" ? arg.toLowerCase() : "";
    if (lower === "withtype") withType = true;
    else if (lower === "match" || lower === "count" || lower === "type") {
      kept.push(arg, command[i + 1]);
      i += 1;
    } else kept.push(arg);
  }
  return withType ? ["eval", SCAN_WITH_TYPE_SCRIPT, 0, command[1], ...kept] : command;
}

/** Applies {@link emulateUpstashOnly} to every command of a pipeline or transaction. */
export function emulateUpstashOnlyAll(commands: unknown[][]): unknown[][] {
  for (let i = 0; i < commands.length; i += 1)
    commands[i] = emulateUpstashOnly(commands[i] as unknown[]);
  return commands;
}
