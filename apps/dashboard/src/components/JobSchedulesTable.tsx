import { useMemo } from "react";
import { formatDateTime, NO_VALUE } from "../format.ts";
import type { JobSchedule, ScheduleState } from "../model.ts";
import { sortedSchedules } from "../shaping/jobs-series.ts";

const STATE_LABEL: Record<ScheduleState, string> = {
  SUCCESS: "Succeeded",
  FAIL: "Failed",
  IN_PROGRESS: "Running",
};

const STATE_CLASS: Record<ScheduleState, string> = {
  SUCCESS: "state-good",
  FAIL: "state-bad",
  IN_PROGRESS: "state-busy",
};

/** Props of {@link JobSchedulesTable}. */
export interface JobSchedulesTableProps {
  /** `null`: unknown (no QStash, or it did not answer). */
  schedules: readonly JobSchedule[] | null;
}

const when = (t: number | null) => (t === null ? NO_VALUE : formatDateTime(t));

/** QStash schedules of the API's jobs: cron, last and next run, and how the last run ended. */
export function JobSchedulesTable({ schedules }: JobSchedulesTableProps) {
  const rows = useMemo(() => sortedSchedules(schedules ?? []), [schedules]);
  return (
    <table className="data-table" data-testid="job-schedules">
      <caption>Schedules</caption>
      <thead>
        <tr>
          <th scope="col">Schedule</th>
          <th scope="col">Job</th>
          <th scope="col">Cron</th>
          <th scope="col">Last run</th>
          <th scope="col">Next run</th>
          <th scope="col">Last state</th>
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={6} className="state-empty">
              {schedules === null ? "Unknown (QStash not available)." : "No schedules."}
            </td>
          </tr>
        ) : (
          rows.map((s) => (
            <tr key={s.scheduleId} data-schedule={s.scheduleId}>
              <th scope="row" className="mono">
                {s.scheduleId}
              </th>
              <td>{s.job ?? NO_VALUE}</td>
              <td className="mono">{s.cron}</td>
              <td>{when(s.lastRunAt)}</td>
              <td>{s.paused ? "Paused" : when(s.nextRunAt)}</td>
              <td
                className={s.lastState ? STATE_CLASS[s.lastState] : undefined}
                data-testid={`schedule-state-${s.scheduleId}`}
              >
                {s.lastState ? STATE_LABEL[s.lastState] : "Not run yet"}
              </td>
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}
