/**
 * Cache hit ratio: requests answered from the cache (fresh hits plus stale values served while
 * revalidating) over all cache requests. `null` when there were none, so the UI shows "–", not 0 %.
 */
export function hitRatio(hit: number, miss: number, stale: number): number | null {
  const total = hit + miss + stale;
  return total > 0 ? (hit + stale) / total : null;
}

/** `part / total` as a 0–1 ratio, `null` when `total` is 0. */
export function share(part: number, total: number): number | null {
  return total > 0 ? part / total : null;
}
