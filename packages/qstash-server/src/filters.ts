import { badRequest } from "./errors.ts";

/** A parsed filter: each field a set of accepted values (OR within a field, AND across fields). */
export interface Filter {
  values: Map<string, string[]>;
  fromDate?: number;
  toDate?: number;
  count?: number;
  cursor?: string;
}

/** Values a filtered item exposes, by filter field name. */
export type FilterSubject = Record<string, string | number | string[] | undefined>;

/**
 * Reads filter parameters, rejecting any that `allowed` does not list. Repeated params and
 * comma-separated values are both accepted.
 * @throws QStashServerError 400 naming the unknown or malformed parameter.
 */
export function parseFilter(
  query: URLSearchParams,
  allowed: readonly string[],
  options: { maxCount?: number; defaultCount?: number } = {},
): Filter {
  const filter: Filter = { values: new Map() };
  for (const name of new Set(query.keys())) {
    const all = query
      .getAll(name)
      .flatMap((value) => value.split(","))
      .map((v) => v.trim())
      .filter(Boolean);
    if (name === "count") {
      const text = query.get(name) ?? "";
      if (!/^\d+$/.test(text) || Number(text) < 1)
        throw badRequest(`count: "${text}" is not a positive whole number`);
      filter.count = Math.min(Number(text), options.maxCount ?? 1000);
    } else if (name === "cursor") {
      filter.cursor = query.get(name) ?? undefined;
      if (filter.cursor !== undefined && filter.cursor !== "" && !/^\d+$/.test(filter.cursor)) {
        throw badRequest(`cursor: "${filter.cursor}" is not a cursor this server returned`);
      }
    } else if (name === "fromDate" || name === "toDate") {
      const text = query.get(name) ?? "";
      if (!/^\d+$/.test(text)) throw badRequest(`${name}: "${text}" is not a time in ms`);
      filter[name] = Number(text);
    } else if (allowed.includes(name)) {
      filter.values.set(name, all);
    } else {
      throw badRequest(
        `unknown parameter "${name}"; accepted: ${["count", "cursor", "fromDate", "toDate", ...allowed].join(", ")}`,
      );
    }
  }
  if (filter.count === undefined && options.defaultCount !== undefined)
    filter.count = options.defaultCount;
  return filter;
}

/** True when `subject` passes every field of the filter (time from `subject.time`). */
export function matchesFilter(filter: Filter, subject: FilterSubject, time: number): boolean {
  if (filter.fromDate !== undefined && time < filter.fromDate) return false;
  if (filter.toDate !== undefined && time > filter.toDate) return false;
  for (const [field, accepted] of filter.values) {
    if (accepted.length === 0) continue;
    const value = subject[field];
    const have = Array.isArray(value) ? value : value === undefined ? [] : [String(value)];
    if (!accepted.some((candidate) => have.includes(candidate))) return false;
  }
  return true;
}

/** One page of `items` from `cursor` (an offset) with `count` items; `next` is absent at the end. */
export function page<T>(
  items: readonly T[],
  filter: Filter,
  defaultCount: number,
): { items: T[]; next?: string } {
  const start = filter.cursor ? Number(filter.cursor) : 0;
  const count = filter.count ?? defaultCount;
  const slice = items.slice(start, start + count);
  const end = start + slice.length;
  return end < items.length ? { items: slice, next: String(end) } : { items: slice };
}
