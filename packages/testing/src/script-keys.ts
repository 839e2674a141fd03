import { getKeyIndexes } from "@ioredis/commands";

/** A `redis.call`/`redis.pcall` in a Lua script whose key argument is not declared in KEYS. */
export interface ScriptKeyViolation {
  /** The command, lower case (or the raw first argument when it is not a string literal). */
  readonly command: string;
  /** The Lua expression in a key position. */
  readonly argument: string;
}

/** One Lua script found in a source file. */
export interface FoundScript {
  readonly file: string;
  /** 1-based line of the script's opening backtick. */
  readonly line: number;
  readonly source: string;
}

/**
 * Every template literal of a TypeScript source that holds a Lua script (`redis.call` or
 * `redis.pcall` in it). Scripts without `${…}` interpolation are expected (a script is a constant).
 */
export function findLuaScripts(file: string, text: string): FoundScript[] {
  const found: FoundScript[] = [];
  const literal = /`([^`]*)`/g;
  for (let match = literal.exec(text); match; match = literal.exec(text)) {
    const source = match[1] ?? "";
    if (!/redis\.p?call\s*\(/.test(source)) continue;
    const line = text.slice(0, match.index).split("\n").length;
    found.push({ file, line, source });
  }
  return found;
}

/**
 * The Redis Cluster rule for scripts: every key a script touches is passed in KEYS (so the client
 * can route the call and Redis can check the slot), never built inside Lua from ARGV, from
 * another key's value or by concatenation. Returns each call breaking it (empty when the script
 * is fine). A key argument is accepted when it is exactly `KEYS[…]`, `unpack(KEYS…)`, or a name
 * the script assigned from `KEYS[…]` (`local k = KEYS[i]`, `key = KEYS[k]` in a table).
 */
export function scriptKeyViolations(source: string): ScriptKeyViolation[] {
  const code = stripComments(source);
  const aliases = new Set<string>();
  for (const m of code.matchAll(/([A-Za-z_][\w.]*)\s*=\s*KEYS\s*\[[^\]]+\]\s*(?:[,;\n}]|$)/g)) {
    aliases.add(lastName(m[1] ?? ""));
  }
  const violations: ScriptKeyViolation[] = [];
  for (const call of redisCalls(code)) {
    const [first, ...args] = call;
    const name = /^(['"])([A-Za-z]+)\1$/.exec(first ?? "")?.[2]?.toLowerCase();
    if (name === undefined) {
      violations.push({ command: first ?? "", argument: "(command name is not a literal)" });
      continue;
    }
    let indexes: number[];
    try {
      indexes = getKeyIndexes(name, args.map(literalValue));
    } catch {
      indexes = args.map((_, i) => i);
    }
    for (const index of indexes) {
      const argument = args[index] ?? "";
      if (!isDeclaredKey(argument, aliases)) violations.push({ command: name, argument });
    }
  }
  return violations;
}

function isDeclaredKey(expression: string, aliases: ReadonlySet<string>): boolean {
  return (
    /^KEYS\s*\[[^\]]+\]$/.test(expression) ||
    /^unpack\s*\(\s*KEYS\s*[,)]/.test(expression) ||
    (/^[A-Za-z_][\w.]*$/.test(expression) && aliases.has(lastName(expression)))
  );
}

function lastName(expression: string): string {
  return expression.slice(expression.lastIndexOf(".") + 1);
}

// A string literal's content (so numeric counts such as ZUNIONSTORE's numkeys parse), else the text.
function literalValue(argument: string): string {
  return /^(['"])(.*)\1$/.exec(argument)?.[2] ?? argument;
}

function stripComments(source: string): string {
  return source.replace(/--\[\[[\s\S]*?\]\]/g, "").replace(/--[^\n]*/g, "");
}

/** The argument lists (split at top-level commas, trimmed) of every redis.call/pcall. */
function redisCalls(code: string): string[][] {
  const calls: string[][] = [];
  const opener = /redis\.p?call\s*\(/g;
  for (let m = opener.exec(code); m; m = opener.exec(code)) {
    const args: string[] = [];
    let depth = 0;
    let quote: string | undefined;
    let current = "";
    let i = m.index + m[0].length;
    for (; i < code.length; i += 1) {
      const ch = code[i] as string;
      if (quote) {
        current += ch;
        if (ch === "\\") current += code[++i] ?? "";
        else if (ch === quote) quote = undefined;
        continue;
      }
      if (ch === "'" || ch === '"') quote = ch;
      else if (ch === "(" || ch === "[" || ch === "{") depth += 1;
      else if (ch === ")" || ch === "]" || ch === "}") {
        if (depth === 0) break;
        depth -= 1;
      } else if (ch === "," && depth === 0) {
        args.push(current.trim());
        current = "";
        continue;
      }
      current += ch;
    }
    if (current.trim() !== "") args.push(current.trim());
    calls.push(args);
    opener.lastIndex = i;
  }
  return calls;
}
