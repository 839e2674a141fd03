/** One policy's quota left for an identifier. */
export interface IdentifierQuota {
  policy: string;
  limit: number;
  remaining: number;
  /** ms epoch. */
  reset: number;
}

/** A per-identifier override: a multiplier of every limit and/or exact limits by policy name. */
export interface IdentifierOverride {
  multiplier?: number | undefined;
  limits?: Record<string, number> | undefined;
}

/** A deny-list entry: an identifier (as the limiter sees it) or a client IP. */
export type DenyEntry = { identifier: string } | { ip: string };

/** The rate-limit controls in force: deny list and overrides. */
export interface RateLimitControls {
  denied: { kind: "identifier" | "ip"; value: string }[];
  overrides: ({ identifier: string } & IdentifierOverride)[];
}

/** The admin powers of the packages, as the admin router uses them (src/adapters/admin-controls.ts). */
export interface AdminControls {
  /** Clears an identifier's counters in every policy (its next request starts a fresh window). */
  resetIdentifier(identifier: string): Promise<void>;
  /** An identifier's quota left in every policy. */
  quota(identifier: string): Promise<IdentifierQuota[]>;
  /** Adds to the deny list (every instance sees it within the limiter's refresh period). */
  deny(entry: DenyEntry): Promise<void>;
  /** Removes from the deny list. */
  allow(entry: DenyEntry): Promise<void>;
  /** Sets an identifier's override. */
  setOverride(identifier: string, override: IdentifierOverride): Promise<void>;
  /** Removes an identifier's override. */
  removeOverride(identifier: string): Promise<void>;
  /** Names of the rate-limit policies (what an override's `limits` may name). */
  policies(): string[];
  /** The deny list and the overrides as stored in Redis. */
  controls(): Promise<RateLimitControls>;
  /** Deletes every entry of a cache namespace; returns how many were removed. */
  invalidateNamespace(namespace: string): Promise<number>;
  /** Deletes every entry of a namespace carrying `tag`; returns how many were removed. */
  invalidateTag(namespace: string, tag: string): Promise<number>;
}

/** Who a hashed rate-limit identifier belongs to, when the API knows. */
export type KnownIdentity = { kind: "user"; userId: number; username: string } | { kind: "admin" };

/** Maps hashed rate-limit identifiers back to known principals (admin views only). */
export interface IdentityDirectory {
  /** The known principals among `identifiers` (unknown ones are left out). */
  resolve(identifiers: readonly string[]): Promise<Map<string, KnownIdentity>>;
}
