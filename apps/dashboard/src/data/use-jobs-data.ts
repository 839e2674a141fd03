import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo } from "react";
import { RANGE_MS, type DlqEntry, type JobsModel, type RangeKey } from "../model.ts";
import { dlqEntries, jobsModel } from "./adapt.ts";
import { classifyError, worstProblem, type Problem } from "./errors.ts";
import { metricsRefreshMs } from "./refresh.ts";
import { useTRPC } from "./trpc.ts";

/** DLQ messages listed at once (the view says when there are more). */
export const DLQ_PAGE_SIZE = 50;

/** What an admin can do with a DLQ message. */
export type DlqAction = "retry" | "delete";

/** Options of {@link useJobsData}. */
export interface JobsDataOptions {
  range: RangeKey;
  pollIntervalMs: number;
  /** False until an admin token is known. */
  enabled: boolean;
}

/** What the Jobs view renders, and its DLQ actions. */
export interface JobsData {
  model: JobsModel | undefined;
  /** The first {@link DLQ_PAGE_SIZE} DLQ messages, newest first. */
  dlq: DlqEntry[] | undefined;
  /** True when the DLQ holds more messages than listed. */
  dlqTruncated: boolean;
  problem: Problem | null;
  /**
   * Retries (back to delivery) or deletes one DLQ message, then re-reads the view.
   * @throws Error with a message for people when the API refused or did not answer.
   */
  act: (action: DlqAction, dlqId: string) => Promise<void>;
}

/**
 * Polls `jobs.overview` and the first DLQ page (admin procedures) and runs the DLQ actions;
 * previous data is kept while a new range loads and while the API is down.
 */
export function useJobsData({ range, pollIntervalMs, enabled }: JobsDataOptions): JobsData {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const minutes = RANGE_MS[range] / 60_000;
  const overview = useQuery({
    ...trpc.jobs.overview.queryOptions({ minutes }),
    enabled,
    refetchInterval: metricsRefreshMs(range, pollIntervalMs),
    placeholderData: keepPreviousData,
  });
  const list = useQuery({
    ...trpc.jobs.dlq.list.queryOptions({ count: DLQ_PAGE_SIZE }),
    enabled,
    refetchInterval: pollIntervalMs,
    placeholderData: keepPreviousData,
  });
  const settled = () => queryClient.invalidateQueries(trpc.jobs.pathFilter());
  const retry = useMutation(trpc.jobs.dlq.retry.mutationOptions({ onSettled: settled }));
  const remove = useMutation(trpc.jobs.dlq.delete.mutationOptions({ onSettled: settled }));

  const model = useMemo(
    () => (overview.data ? jobsModel(overview.data) : undefined),
    [overview.data],
  );
  const dlq = useMemo(() => (list.data ? dlqEntries(list.data) : undefined), [list.data]);

  return {
    model,
    dlq,
    dlqTruncated: list.data?.cursor != null,
    problem: worstProblem([
      overview.isError ? classifyError(overview.error) : null,
      list.isError ? classifyError(list.error) : null,
    ]),
    act: async (action, dlqId) => {
      try {
        await (action === "retry" ? retry : remove).mutateAsync({ dlqId });
      } catch (error) {
        throw new Error(classifyError(error).message, { cause: error });
      }
    },
  };
}
