import { createHash } from "node:crypto";

// Script flags Redis 7 knows; anything else (Upstash's `allow-key-locking`) is dropped.
const KNOWN_FLAGS = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);
const SHEBANG = /^#!lua flags=([^\n]*)(\n|$)/;
const MAX_ALIASES = 10_000;

/** sha1 hex digest of a script text, as Redis computes it. */
export function scriptSha1(script: string): string {
  return createHash("sha1").update(script).digest("hex");
}

/**
 * Makes scripts written for Upstash run on Redis 7: unknown shebang flags are removed and the
 * sha1 of the original text is mapped to the sha1 Redis knows, so `EVALSHA <sdk hash>` works and
 * `SCRIPT LOAD` answers the hash the SDK expects. The alias table lives in memory, never in Redis.
 */
export class ScriptNormaliser {
  readonly #aliases = new Map<string, string>();

  /** Rewrites a script text; returns it unchanged (and records nothing) when nothing had to change. */
  normalise(script: string): { script: string; originalSha: string; changed: boolean } {
    const match = SHEBANG.exec(script);
    if (!match) return { script, originalSha: "", changed: false };
    const flags = (match[1] ?? "")
      .split(",")
      .map((f) => f.trim())
      .filter(Boolean);
    const kept = flags.filter((f) => KNOWN_FLAGS.has(f));
    if (kept.length === flags.length) return { script, originalSha: "", changed: false };
    // An empty first line keeps Lua's line numbers in error messages unchanged.
    const head = kept.length > 0 ? `#!lua flags=${kept.join(",")}` : "";
    const normalised = head + (match[2] ?? "") + script.slice(match[0].length);
    const originalSha = scriptSha1(script);
    this.remember(originalSha, scriptSha1(normalised));
    return { script: normalised, originalSha, changed: true };
  }

  /** The sha1 Redis knows for a sha1 a client sent (itself when no alias is known). */
  resolveSha(sha: string): string {
    return this.#aliases.get(sha.toLowerCase()) ?? sha;
  }

  private remember(originalSha: string, redisSha: string): void {
    if (this.#aliases.size >= MAX_ALIASES) {
      const oldest = this.#aliases.keys().next().value;
      if (oldest !== undefined) this.#aliases.delete(oldest);
    }
    this.#aliases.set(originalSha, redisSha);
  }
}

/**
 * Applies script normalisation to one command in place of its arguments; returns the new args
 * and, for `SCRIPT LOAD`, the sha1 to answer instead of Redis's.
 */
export function rewriteScriptCommand(
  normaliser: ScriptNormaliser,
  args: string[],
): { args: string[]; loadAnswer?: string } {
  const first = args[0] ?? "";
  // Only EVAL*, EVALSHA* and SCRIPT are rewritten: skip everything else without lower-casing.
  const initial = first.charCodeAt(0) | 0x20;
  if (initial !== 0x65 && initial !== 0x73) return { args };
  const name = first.toLowerCase();
  if ((name === "eval" || name === "eval_ro") && args[1] !== undefined) {
    const { script, changed } = normaliser.normalise(args[1]);
    if (changed) return { args: [args[0] ?? name, script, ...args.slice(2)] };
  } else if ((name === "evalsha" || name === "evalsha_ro") && args[1] !== undefined) {
    const sha = normaliser.resolveSha(args[1]);
    if (sha !== args[1]) return { args: [args[0] ?? name, sha, ...args.slice(2)] };
  } else if (name === "script" && args[2] !== undefined) {
    const sub = (args[1] ?? "").toLowerCase();
    if (sub === "load") {
      const { script, originalSha, changed } = normaliser.normalise(args[2]);
      if (changed)
        return { args: [args[0] ?? name, args[1] ?? sub, script], loadAnswer: originalSha };
    } else if (sub === "exists") {
      return {
        args: [...args.slice(0, 2), ...args.slice(2).map((sha) => normaliser.resolveSha(sha))],
      };
    }
  }
  return { args };
}
