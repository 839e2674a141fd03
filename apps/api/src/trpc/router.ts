import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createCallerFactory, router } from "./init.ts";
import { adminRouter } from "./routers/admin.ts";
import { feedRouter } from "./routers/feed.ts";
import { healthRouter } from "./routers/health.ts";
import { jobsRouter } from "./routers/jobs.ts";
import { leaderboardRouter } from "./routers/leaderboard.ts";
import { metricsRouter } from "./routers/metrics.ts";
import { sessionsRouter } from "./routers/sessions.ts";
import { streamsRouter } from "./routers/streams.ts";
import { tipsRouter } from "./routers/tips.ts";
import { usersRouter } from "./routers/users.ts";

/** The whole API. */
export const appRouter = router({
  health: healthRouter,
  users: usersRouter,
  streams: streamsRouter,
  tips: tipsRouter,
  leaderboard: leaderboardRouter,
  feed: feedRouter,
  sessions: sessionsRouter,
  metrics: metricsRouter,
  jobs: jobsRouter,
  admin: adminRouter,
});

/** The router's type: import it with `import type { AppRouter } from "@hotpath/api/router"`. */
export type AppRouter = typeof appRouter;
/** Inputs of every procedure, e.g. `RouterInputs["tips"]["quick"]`. */
export type RouterInputs = inferRouterInputs<AppRouter>;
/** Outputs of every procedure, e.g. `RouterOutputs["streams"]["status"]`. */
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Server-side caller: `createCaller(createContextInner({ deps, headers }))` (tests, scripts). */
export const createCaller = createCallerFactory(appRouter);
