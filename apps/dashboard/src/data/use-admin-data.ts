import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import type {
  AdminAction,
  AdminControlsView,
  AuditPaging,
  AuditRow,
  QuotaRow,
} from "../admin-model.ts";
import { doneMessage } from "./admin-actions.ts";
import { adminControls, auditRows, quotaRows } from "./adapt-admin.ts";
import {
  auditPageNumber,
  NEWEST_AUDIT_PAGE,
  newerAuditPage,
  olderAuditPage,
  type AuditPage,
} from "./audit-paging.ts";
import { classifyError, worstProblem, type Problem } from "./errors.ts";
import { useTRPC, useTRPCClient } from "./trpc.ts";

/** Audit rows shown per page (the first page: the newest). */
export const AUDIT_PAGE_SIZE = 25;

/** Options of {@link useAdminData}. */
export interface AdminDataOptions {
  pollIntervalMs: number;
  /** False until an admin token is known. */
  enabled: boolean;
  /** The identifier whose quota to show, or null for none. */
  quotaFor: string | null;
}

/** The admin views' data and the one way to run an action. */
export interface AdminData {
  controls: AdminControlsView | undefined;
  /** The audit rows of the page shown. */
  audit: AuditRow[] | undefined;
  auditPaging: AuditPaging;
  quota: QuotaRow[] | undefined;
  /** Why the quota could not be read (e.g. a 400 naming the identifier). */
  quotaError: string | null;
  problem: Problem | null;
  /**
   * Runs a (confirmed) action, then re-reads everything it can change (controls, quota, audit,
   * identifiers, keys) so its effect is on the page at once; resolves with the line to show.
   * @throws Error with a message for people when the API refused it or did not answer.
   */
  run: (action: AdminAction) => Promise<string>;
}

/** Polls the admin reads (controls, audit trail, an identifier's quota) and runs admin actions. */
export function useAdminData({ pollIntervalMs, enabled, quotaFor }: AdminDataOptions): AdminData {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const live = { enabled, refetchInterval: pollIntervalMs, placeholderData: keepPreviousData };
  const controls = useQuery({ ...trpc.admin.controls.queryOptions(), ...live });
  const [auditPage, setAuditPage] = useState<AuditPage>(NEWEST_AUDIT_PAGE);
  const audit = useQuery({
    ...trpc.admin.audit.queryOptions(
      auditPage.before === null
        ? { limit: AUDIT_PAGE_SIZE }
        : { limit: AUDIT_PAGE_SIZE, before: auditPage.before },
    ),
    ...live,
  });
  // While the next page loads the previous one stays shown, with its cursor: no paging meanwhile.
  const auditLoading = audit.isPlaceholderData;
  const nextBefore = audit.data?.nextBefore ?? null;
  const auditPaging = useMemo<AuditPaging>(
    () => ({
      page: auditPageNumber(auditPage),
      hasOlder: nextBefore !== null,
      loading: auditLoading,
      onOlder: () => {
        if (nextBefore !== null && !auditLoading)
          setAuditPage((page) => olderAuditPage(page, nextBefore));
      },
      onNewer: () => setAuditPage(newerAuditPage),
    }),
    [auditPage, nextBefore, auditLoading],
  );
  const quota = useQuery({
    ...trpc.admin.quota.queryOptions({ identifier: quotaFor ?? "" }),
    ...live,
    enabled: enabled && quotaFor !== null,
    retry: false,
  });

  const run = useCallback(
    async (action: AdminAction): Promise<string> => {
      let removed: number | undefined;
      try {
        removed = await send(client, action);
      } catch (error) {
        throw new Error(classifyError(error).message, { cause: error });
      } finally {
        // Refused or done: the audit trail has a row either way, on its newest page.
        setAuditPage(NEWEST_AUDIT_PAGE);
        await Promise.all([
          queryClient.invalidateQueries(trpc.admin.pathFilter()),
          queryClient.invalidateQueries(trpc.metrics.topIdentifiers.pathFilter()),
          queryClient.invalidateQueries(trpc.metrics.keyDistribution.pathFilter()),
        ]);
      }
      return doneMessage(action, removed);
    },
    [client, queryClient, trpc],
  );

  return {
    controls: useMemo(
      () => (controls.data ? adminControls(controls.data) : undefined),
      [controls.data],
    ),
    audit: useMemo(() => (audit.data ? auditRows(audit.data) : undefined), [audit.data]),
    auditPaging,
    quota: useMemo(
      () => (quota.data && quotaFor !== null ? quotaRows(quota.data) : undefined),
      [quota.data, quotaFor],
    ),
    quotaError: quota.isError ? classifyError(quota.error).message : null,
    problem: worstProblem([
      controls.isError ? classifyError(controls.error) : null,
      audit.isError ? classifyError(audit.error) : null,
    ]),
    run,
  };
}

type Client = ReturnType<typeof useTRPCClient>;

/** Calls the API's procedure for `action`; returns the entries removed by a cache invalidation. */
async function send(client: Client, action: AdminAction): Promise<number | undefined> {
  const entry = (target: { kind: "identifier" | "ip"; value: string }) =>
    target.kind === "ip" ? { ip: target.value } : { identifier: target.value };
  switch (action.kind) {
    case "reset":
      await client.admin.resetIdentifier.mutate({ identifier: action.identifier });
      return undefined;
    case "deny":
      await client.admin.denyList.add.mutate(entry(action.target));
      return undefined;
    case "allow":
      await client.admin.denyList.remove.mutate(entry(action.target));
      return undefined;
    case "override":
      await client.admin.overrides.set.mutate(action.override);
      return undefined;
    case "removeOverride":
      await client.admin.overrides.remove.mutate({ identifier: action.identifier });
      return undefined;
    case "invalidateNamespace":
      return (await client.admin.cache.invalidateNamespace.mutate({ namespace: action.namespace }))
        .removed;
    case "invalidateTag":
      return (
        await client.admin.cache.invalidateTag.mutate({
          namespace: action.namespace,
          tag: action.tag,
        })
      ).removed;
  }
}
