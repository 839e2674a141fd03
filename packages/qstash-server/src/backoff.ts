import { badRequest } from "./errors.ts";

/** QStash's longest retry delay: one day. */
export const MAX_RETRY_DELAY_MS = 86_400_000;

/**
 * QStash's default delay before retry number `retried` (1 for the first retry):
 * `min(86400, e^(2.5·retried))` seconds, in milliseconds.
 */
export function defaultRetryDelayMs(retried: number): number {
  return Math.round(Math.min(86_400, Math.exp(2.5 * retried)) * 1000);
}

const FUNCTIONS: Record<string, { arity: number[]; run: (...args: number[]) => number }> = {
  pow: { arity: [2], run: (a, b) => Math.pow(a, b) },
  sqrt: { arity: [1], run: (a) => Math.sqrt(a) },
  abs: { arity: [1], run: (a) => Math.abs(a) },
  exp: { arity: [1], run: (a) => Math.exp(a) },
  floor: { arity: [1], run: (a) => Math.floor(a) },
  ceil: { arity: [1], run: (a) => Math.ceil(a) },
  round: { arity: [1], run: (a) => Math.round(a) },
  min: { arity: [2], run: (a, b) => Math.min(a, b) },
  max: { arity: [2], run: (a, b) => Math.max(a, b) },
};

type Expr =
  | { kind: "number"; value: number }
  | { kind: "retried" }
  | { kind: "negate"; operand: Expr }
  | { kind: "binary"; op: string; left: Expr; right: Expr }
  | { kind: "call"; name: string; args: Expr[] };

/** A compiled `Upstash-Retry-Delay` expression: milliseconds for a given `retried`. */
export type RetryDelayExpression = (retried: number) => number;

/**
 * Compiles an `Upstash-Retry-Delay` expression (milliseconds, with the variable `retried` and
 * pow, sqrt, abs, exp, floor, ceil, round, min, max; operators + - * / %).
 * @throws QStashServerError 400 naming the problem.
 */
export function compileRetryDelay(source: string): RetryDelayExpression {
  const tokens = source.match(/\d+(?:\.\d+)?|[A-Za-z_]+|[-+*/%(),]|\S/g) ?? [];
  let position = 0;
  const fail = (message: string): never => {
    throw badRequest(`Upstash-Retry-Delay: ${message} in "${source}"`);
  };
  const peek = () => tokens[position];
  const expect = (token: string) => {
    if (tokens[position] !== token) fail(`expected "${token}"`);
    position += 1;
  };
  const primary = (): Expr => {
    const token = tokens[position++];
    if (token === undefined) return fail("unexpected end");
    if (/^\d/.test(token)) return { kind: "number", value: Number(token) };
    if (token === "(") {
      const inner = sum();
      expect(")");
      return inner;
    }
    if (token === "-") return { kind: "negate", operand: primary() };
    if (token === "retried") return { kind: "retried" };
    const fn = FUNCTIONS[token];
    if (!fn) return fail(`unknown name "${token}"`);
    expect("(");
    const args: Expr[] = [sum()];
    while (peek() === ",") {
      position += 1;
      args.push(sum());
    }
    expect(")");
    if (!fn.arity.includes(args.length)) fail(`${token} takes ${fn.arity.join(" or ")} arguments`);
    return { kind: "call", name: token, args };
  };
  const product = (): Expr => {
    let left = primary();
    while (peek() === "*" || peek() === "/" || peek() === "%") {
      const op = tokens[position++] as string;
      left = { kind: "binary", op, left, right: primary() };
    }
    return left;
  };
  const sum = (): Expr => {
    let left = product();
    while (peek() === "+" || peek() === "-") {
      const op = tokens[position++] as string;
      left = { kind: "binary", op, left, right: product() };
    }
    return left;
  };
  if (source.length > 500) fail("expression longer than 500 characters");
  if (tokens.length === 0) fail("empty expression");
  const tree = sum();
  if (position !== tokens.length) fail(`unexpected "${String(peek())}"`);
  const evaluate = (node: Expr, retried: number): number => {
    switch (node.kind) {
      case "number":
        return node.value;
      case "retried":
        return retried;
      case "negate":
        return -evaluate(node.operand, retried);
      case "call":
        return (FUNCTIONS[node.name] as (typeof FUNCTIONS)[string]).run(
          ...node.args.map((arg) => evaluate(arg, retried)),
        );
      case "binary": {
        const a = evaluate(node.left, retried);
        const b = evaluate(node.right, retried);
        if (node.op === "+") return a + b;
        if (node.op === "-") return a - b;
        if (node.op === "*") return a * b;
        if (node.op === "/") return a / b;
        return a % b;
      }
    }
  };
  return (retried) => {
    const value = evaluate(tree, retried);
    return Number.isFinite(value) ? Math.min(MAX_RETRY_DELAY_MS, Math.max(0, value)) : 0;
  };
}
