import { getRateLimitIdentifier } from "@hotpath/ratelimit";
import type { Database } from "../db/database.ts";
import { listUserNamesAfter } from "../db/users.ts";
import type { IdentityDirectory, KnownIdentity } from "../trpc/admin-deps.ts";
import { ADMIN_RATE_LIMIT_KEY } from "../trpc/identity-memo.ts";

/** Options of {@link createIdentityDirectory}. */
export interface IdentityDirectoryOptions {
  db: Database;
  /** Users read (and hashed) per query. @default 1000 */
  batchSize?: number;
  /** Most users held in memory; users beyond it stay unresolved. @default 200000 */
  maxUsers?: number;
}

/**
 * Resolves hashed rate-limit identifiers to users: each user id is hashed once with the very
 * function the limiter's identities come from (`getRateLimitIdentifier`), and the map is kept in
 * this process (hashes only ever leave it through admin-only procedures; Redis keeps hashes).
 * New users are read incrementally (ids above the last one seen) when an unknown `user_`
 * identifier is asked for.
 */
export function createIdentityDirectory(options: IdentityDirectoryOptions): IdentityDirectory {
  const batchSize = options.batchSize ?? 1000;
  const maxUsers = options.maxUsers ?? 200_000;
  const known = new Map<string, KnownIdentity>();
  let lastUserId = 0;
  let loading: Promise<void> | undefined;
  let adminIdentifier: Promise<string> | undefined;

  const loadNewUsers = async () => {
    while (known.size < maxUsers) {
      const users = await listUserNamesAfter(options.db, lastUserId, batchSize);
      for (const user of users) {
        const { identifier } = await getRateLimitIdentifier({ userId: user.id });
        known.set(identifier, { kind: "user", userId: user.id, username: user.username });
        lastUserId = user.id;
      }
      if (users.length < batchSize) return;
    }
  };

  return {
    async resolve(identifiers) {
      adminIdentifier ??= getRateLimitIdentifier({ apiKey: ADMIN_RATE_LIMIT_KEY }).then(
        (identity) => identity.identifier,
      );
      const admin = await adminIdentifier;
      if (identifiers.some((id) => id.startsWith("user_") && !known.has(id))) {
        loading ??= loadNewUsers().finally(() => {
          loading = undefined;
        });
        await loading;
      }
      const resolved = new Map<string, KnownIdentity>();
      for (const identifier of identifiers) {
        if (identifier === admin) resolved.set(identifier, { kind: "admin" });
        const identity = known.get(identifier);
        if (identity) resolved.set(identifier, identity);
      }
      return resolved;
    },
  };
}
