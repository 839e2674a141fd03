import { baseProcedure } from "./init.ts";
import { auditTrail } from "./middleware/audit.ts";
import { requireAdmin, requireMetricsAccess, requireUser } from "./middleware/auth.ts";
import { timed } from "./middleware/latency.ts";
import { observe } from "./middleware/observe.ts";
import { traced } from "./middleware/trace.ts";

export { rateLimited } from "./middleware/rate-limit.ts";
export {
  idempotent,
  IDEMPOTENCY_KEY_HEADER,
  IDEMPOTENT_REPLAYED_HEADER,
} from "./middleware/idempotency.ts";
export { cached, type CachedOptions } from "./middleware/cache.ts";

/**
 * Every procedure starts here: its trace span (outermost, so it sees the mapped error), then
 * error mapping, timing and one structured log line per call, then its latency histograms.
 */
export const publicProcedure = baseProcedure.use(traced).use(observe).use(timed);

/** A procedure that needs a logged-in user (401 otherwise); `ctx.user` is set. */
export const authedProcedure = publicProcedure.use(requireUser);

/** A procedure that needs the admin bearer token (`ADMIN_TOKEN`); marked `meta.admin`. */
export const adminProcedure = publicProcedure.meta({ admin: true }).use(requireAdmin);

/**
 * An admin mutation with an audit trail: one `admin_audit` row per call, failures and invalid
 * input included (see middleware/audit.ts); marked `meta.audited`. Put `.input()` after it.
 */
export const auditedAdminProcedure = adminProcedure.meta({ audited: true }).use(auditTrail);

/** A metrics read: the admin token unless `METRICS_PUBLIC=true`. */
export const metricsProcedure = publicProcedure.use(requireMetricsAccess);

/** A bare procedure with no middleware at all (the benchmark baseline). */
export const bareProcedure = baseProcedure;
