import type { PolicyOutcome } from "./types.ts";

interface BlockEntry {
  readonly reset: number;
  readonly policies: readonly PolicyOutcome[];
}

/**
 * The ephemeral block cache: once Redis says "blocked", the (policies, identifier) pair is
 * answered from memory until its reset, with no Redis call. Bounded (oldest first).
 */
export class BlockCache {
  readonly #entries = new Map<string, BlockEntry>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** The blocked decision still in force, if any. */
  get(key: string, now = Date.now()): BlockEntry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.reset <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Remembers a block until `reset` (ms epoch); a reset that is not a finite time is not remembered. */
  block(key: string, reset: number, policies: readonly PolicyOutcome[]): void {
    if (!Number.isFinite(reset)) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      const now = Date.now();
      for (const [k, v] of this.#entries) if (v.reset <= now) this.#entries.delete(k);
      if (this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
    }
    this.#entries.set(key, { reset, policies });
  }

  /** Drops every entry of an identifier (admin reset, deny-list change). */
  forget(identifier: string): void {
    for (const key of [...this.#entries.keys()])
      if (key.endsWith(`|${identifier}`)) this.#entries.delete(key);
  }

  /** Number of blocked pairs held. */
  get size(): number {
    return this.#entries.size;
  }
}
