/** One value held in memory by the L1 tier. */
export interface L1Entry {
  value: unknown;
  /** Negative-cache sentinel (the loader returned null). */
  negative: boolean;
  freshUntil: number;
  staleUntil: number;
  /** Epoch ms after which L1 must not serve it fresh (its own, shorter TTL). */
  l1Until: number;
  bytes: number;
}

/** Options of the bounded L1 tier. */
export interface L1Options {
  /** At most this many entries. @default 1000 */
  maxEntries?: number;
  /** At most this many bytes of serialized payload. @default 16 MiB */
  maxBytes?: number;
  /**
   * L1's own TTL in ms (bounds staleness when an invalidation message is lost and no Redis round
   * trip brings the generation stamp). @default 10_000
   */
  ttlMs?: number;
  /** Subscribe to the namespace's invalidation channel (pub/sub) where a connection can be held. @default true */
  bus?: boolean;
}

/** A bounded LRU (by entries and bytes) of deserialized values. */
export class L1Store {
  readonly #entries = new Map<string, L1Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: L1Options) {
    this.#maxEntries = Math.max(1, options.maxEntries ?? 1000);
    this.#maxBytes = Math.max(1, options.maxBytes ?? 16 * 1024 * 1024);
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The entry (marked most recently used), or undefined. */
  get(key: string): L1Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  /** The entry without touching recency. */
  peek(key: string): L1Entry | undefined {
    return this.#entries.get(key);
  }

  /** Stores an entry, evicting the least recently used ones over the bounds. Too-big entries are not kept. */
  set(key: string, entry: L1Entry): void {
    this.delete(key);
    if (entry.bytes > this.#maxBytes) return;
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    while (this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.delete(oldest.value);
    }
  }

  /** Removes one entry. */
  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** Removes entries whose key matches `match`. */
  deleteWhere(match: (key: string) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (match(key)) this.delete(key);
  }

  /** Removes everything. */
  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}
