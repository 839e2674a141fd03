import { useState } from "react";
import { formatDateTime, NO_VALUE } from "../format.ts";
import type { DlqEntry } from "../model.ts";
import type { DlqAction } from "../data/use-jobs-data.ts";
import { ConfirmButton } from "./ConfirmButton.tsx";

/** Props of {@link DlqTable}. */
export interface DlqTableProps {
  entries: readonly DlqEntry[];
  /** True when the DLQ holds more messages than listed. */
  truncated: boolean;
  /** Runs a confirmed action; rejects with a message for people. */
  onAction: (action: DlqAction, dlqId: string) => Promise<void>;
}

const ACTION_LABEL: Record<DlqAction, string> = { retry: "Retry", delete: "Delete" };

type RowState = { step: "idle"; error?: string } | { step: "busy"; action: DlqAction };

/** What each action asks before it runs (`what`: job and message id). */
const QUESTION: Record<DlqAction, (what: string) => string> = {
  retry: (what) => `Send ${what} back to delivery?`,
  delete: (what) => `Delete ${what} from the dead-letter queue for good?`,
};

function DlqRow({ entry, onAction }: { entry: DlqEntry; onAction: DlqTableProps["onAction"] }) {
  const [state, setState] = useState<RowState>({ step: "idle" });
  const run = async (action: DlqAction) => {
    setState({ step: "busy", action });
    try {
      await onAction(action, entry.dlqId);
      // On success the row leaves the list with the next read.
      setState({ step: "idle" });
    } catch (error) {
      setState({ step: "idle", error: error instanceof Error ? error.message : String(error) });
    }
  };
  const what = `${entry.job ?? "message"} ${entry.messageId}`;
  const actions = (
    <>
      {(["retry", "delete"] as const).map((action) => (
        <ConfirmButton
          key={action}
          label={ACTION_LABEL[action]}
          ariaLabel={`${ACTION_LABEL[action]} ${what}`}
          question={QUESTION[action](what)}
          danger={action === "delete"}
          disabled={state.step === "busy"}
          onConfirm={() => void run(action)}
        />
      ))}
      {state.step === "busy" ? (
        <span role="status">{state.action === "retry" ? "Retrying…" : "Deleting…"}</span>
      ) : null}
      {state.step === "idle" && state.error ? (
        <span className="action-error" role="alert">
          {state.error}
        </span>
      ) : null}
    </>
  );
  return (
    <tr data-dlq-id={entry.dlqId}>
      <th scope="row">{entry.job ?? NO_VALUE}</th>
      <td className="mono">{entry.messageId}</td>
      <td>{formatDateTime(entry.createdAt)}</td>
      <td title={entry.responseBody ?? undefined}>
        {entry.responseStatus === null ? "No answer" : String(entry.responseStatus)}
      </td>
      <td className="mono payload">{entry.payload ?? NO_VALUE}</td>
      <td className="row-actions">{actions}</td>
    </tr>
  );
}

/**
 * The dead-letter queue: each message with Retry and Delete, each a {@link ConfirmButton} (asks
 * first, runs on Confirm only).
 */
export function DlqTable({ entries, truncated, onAction }: DlqTableProps) {
  return (
    <table className="data-table" data-testid="dlq-table">
      <caption>Dead-letter queue{truncated ? ` (first ${entries.length} messages)` : ""}</caption>
      <thead>
        <tr>
          <th scope="col">Job</th>
          <th scope="col">Message</th>
          <th scope="col">Dead since</th>
          <th scope="col">Last answer</th>
          <th scope="col">Payload</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {entries.length === 0 ? (
          <tr>
            <td colSpan={6} className="state-empty">
              Empty: every job was delivered or is still being retried.
            </td>
          </tr>
        ) : (
          entries.map((entry) => <DlqRow key={entry.dlqId} entry={entry} onAction={onAction} />)
        )}
      </tbody>
    </table>
  );
}
