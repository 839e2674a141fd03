import { useMemo, useState } from "react";
import type { DlqAction } from "../data/use-jobs-data.ts";
import { formatAgo, formatCount, NO_VALUE } from "../format.ts";
import type { DlqEntry, JobsModel } from "../model.ts";
import { jobNames, jobsChartRows, jobTotals, type JobsChartRow } from "../shaping/jobs-series.ts";
import type { TimeWindow } from "../shaping/time-buckets.ts";
import { DlqTable } from "./DlqTable.tsx";
import { JobSchedulesTable } from "./JobSchedulesTable.tsx";
import { Panel } from "./Panel.tsx";
import { SeriesSelect } from "./SeriesSelect.tsx";
import { StackedBars, type StackSeries } from "./StackedBars.tsx";
import { useChartPalette } from "./use-color-scheme.ts";

// Published beside the outcomes of deliveries (delivered + failed), and the retries among them.
const SERIES: readonly StackSeries<JobsChartRow>[] = [
  { key: "published", label: "Published", color: "allowed", stack: "published" },
  { key: "delivered", label: "Delivered", color: "hit", stack: "outcome" },
  { key: "failed", label: "Failed", color: "miss", stack: "outcome" },
  { key: "retried", label: "Retried", color: "stale", stack: "retried" },
];

/** Props of {@link JobsPanel}. */
export interface JobsPanelProps {
  model: JobsModel | undefined;
  dlq: readonly DlqEntry[] | undefined;
  dlqTruncated: boolean;
  window: TimeWindow;
  withSeconds: boolean;
  onDlqAction: (action: DlqAction, dlqId: string) => Promise<void>;
}

interface Stat {
  id: string;
  label: string;
  value: string;
  detail?: string | undefined;
  tone?: "good" | "bad" | "neutral";
}

function dlqStat(dlq: JobsModel["dlq"]): Stat {
  if (dlq === null) return { id: "dlq", label: "DLQ", value: NO_VALUE, detail: "unknown" };
  return {
    id: "dlq",
    label: "DLQ",
    value: `${formatCount(dlq.size)}${dlq.more ? "+" : ""}`,
    detail: dlq.size === 0 ? "empty" : "dead-lettered",
    tone: dlq.size === 0 ? "good" : "bad",
  };
}

function outboxStat(outbox: JobsModel["outbox"]): Stat {
  return {
    id: "outbox",
    label: "Outbox pending",
    value: formatCount(outbox.pending),
    detail:
      outbox.oldestAgeSeconds === null
        ? "nothing waiting"
        : `oldest ${formatAgo(outbox.oldestAgeSeconds * 1000)}`,
    tone: outbox.pending === 0 ? "good" : "neutral",
  };
}

function fanoutStat(outbox: JobsModel["outbox"]): Stat {
  return {
    id: "fanout",
    label: "Fan-out pending",
    value: formatCount(outbox.fanoutPending),
    detail: outbox.fanoutPending === 0 ? "followers notified" : "tips, followers not notified yet",
    tone: outbox.fanoutPending === 0 ? "good" : "neutral",
  };
}

/**
 * The Jobs view: published / delivered / failed / retried over time per job, totals, DLQ size and
 * outbox rows pending (projections, and tips whose fan-out to followers is pending), the QStash
 * schedules, and the DLQ with Retry and Delete.
 */
export function JobsPanel({
  model,
  dlq,
  dlqTruncated,
  window,
  withSeconds,
  onDlqAction,
}: JobsPanelProps) {
  const palette = useChartPalette();
  const [job, setJob] = useState<string | null>(null);
  const points = model?.points;
  const jobs = useMemo(() => jobNames(points ?? []), [points]);
  const selected = job !== null && jobs.includes(job) ? job : null;
  const rows = useMemo(
    () => jobsChartRows(points ?? [], window, selected),
    [points, window, selected],
  );
  const totals = useMemo(() => jobTotals(points ?? [], selected), [points, selected]);
  const stats: Stat[] = model
    ? [
        { id: "published", label: "Published", value: formatCount(totals.published) },
        { id: "delivered", label: "Delivered", value: formatCount(totals.delivered) },
        { id: "retried", label: "Retried", value: formatCount(totals.retried) },
        {
          id: "failed",
          label: "Failed",
          value: formatCount(totals.failed),
          tone: totals.failed > 0 ? "bad" : "neutral",
        },
        dlqStat(model.dlq),
        outboxStat(model.outbox),
        fanoutStat(model.outbox),
      ]
    : [];
  return (
    <Panel
      id="jobs"
      title="Jobs"
      className="panel-wide"
      loading={model === undefined}
      actions={
        <SeriesSelect
          label="Job"
          options={jobs}
          value={selected}
          onChange={setJob}
          allLabel="All jobs"
        />
      }
    >
      {model && !model.qstash ? (
        <p className="note" data-testid="jobs-note">
          QStash is not configured (QSTASH_URL): the outbox is relayed in-process, with no schedules
          and no DLQ.
        </p>
      ) : null}
      {model?.qstashError ? (
        <p className="note note-bad" role="status" data-testid="jobs-note">
          QStash did not answer: {model.qstashError}
        </p>
      ) : null}
      <dl className="cards jobs-stats">
        {stats.map((s) => (
          <div
            key={s.id}
            className={`card card-${s.tone ?? "neutral"}`}
            data-testid={`jobs-${s.id}`}
          >
            <dt>{s.label}</dt>
            <dd>
              <span className="card-value" data-testid={`jobs-${s.id}-value`}>
                {s.value}
              </span>
              {s.detail ? <span className="card-detail">{s.detail}</span> : null}
            </dd>
          </div>
        ))}
      </dl>
      <StackedBars
        rows={rows}
        series={SERIES}
        palette={palette}
        withSeconds={withSeconds}
        description={`Jobs published, delivered, failed and retried over time for ${selected ?? "all jobs"}.`}
      />
      {model?.qstash ? (
        <>
          <JobSchedulesTable schedules={model.schedules} />
          <DlqTable entries={dlq ?? []} truncated={dlqTruncated} onAction={onDlqAction} />
        </>
      ) : null}
    </Panel>
  );
}
