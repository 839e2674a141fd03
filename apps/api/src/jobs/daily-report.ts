import { computeDailyReport, readDailyReport, type DailyReportRow } from "../db/daily-report.ts";
import type { Database } from "../db/database.ts";
import type { Logger } from "../logger.ts";

const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) before the one `ms` falls in: the last complete day. */
export function utcDayBefore(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS - DAY_MS).toISOString().slice(0, 10);
}

/**
 * The `daily-report` job: computes and stores the tips per creator of `day` (default: the last
 * complete UTC day by `now`) and logs its totals.
 */
export function createDailyReportJob(options: {
  db: Database;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
}): (day?: string) => Promise<DailyReportRow | null> {
  const now = options.now ?? Date.now;
  return async (day) => {
    const target = day ?? utcDayBefore(now());
    await computeDailyReport(options.db, target);
    const report = await readDailyReport(options.db, target);
    options.logger.info("daily report computed", {
      day: target,
      tips: report?.tips ?? 0,
      cents: report?.cents ?? 0,
      creators: report?.creators.length ?? 0,
    });
    return report;
  };
}
