/** True when `text` holds a Redis Cluster hash tag (`{…}` with something between the braces). */
function hasHashTag(text: string): boolean {
  const open = text.indexOf("{");
  if (open === -1) return false;
  const close = text.indexOf("}", open + 1);
  return close > open + 1;
}

/**
 * Where the server's keys live. On a single Redis: `<prefix>:t:<tenant>:<name>` and BullMQ under
 * `<prefix>:bull` (the layout of earlier versions, kept so an upgrade finds its data). On a Redis
 * Cluster every group of keys that one script, transaction or BullMQ queue touches shares a hash
 * tag: `<prefix>:t:{<tenant>}:<name>` (a tenant's keys on one slot, tenants spread over the
 * masters) and BullMQ under `<prefix>:bull:{<lane>}` (a lane's keys on one slot, lanes spread).
 * A prefix that already holds a hash tag keeps everything on its one slot.
 */
export class KeyLayout {
  readonly #prefix: string;
  readonly #tagged: boolean;

  constructor(prefix: string, cluster: boolean) {
    this.#prefix = prefix;
    this.#tagged = cluster && !hasHashTag(prefix);
  }

  /** The key of `name` in `tenant`'s space. */
  tenantKey(tenant: string, name: string): string {
    return this.#tagged
      ? `${this.#prefix}:t:{${tenant}}:${name}`
      : `${this.#prefix}:t:${tenant}:${name}`;
  }

  /** BullMQ's prefix for the queue of `lane`. */
  bullPrefix(lane: string): string {
    return this.#tagged ? `${this.#prefix}:bull:{${lane}}` : `${this.#prefix}:bull`;
  }

  /** The hash of known lanes (one key). */
  get lanesKey(): string {
    return `${this.#prefix}:lanes`;
  }
}
