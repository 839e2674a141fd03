import { formatAgo, formatDateTime } from "../format.ts";
import { useNow } from "./use-now.ts";

/** Props of {@link UpdatedAgo}. */
export interface UpdatedAgoProps {
  /** Epoch ms of the last successful refresh, 0 when none yet. */
  updatedAt: number;
  refreshing: boolean;
}

/** "Updated 3 seconds ago", ticking every second; re-renders only itself. */
export function UpdatedAgo({ updatedAt, refreshing }: UpdatedAgoProps) {
  const now = useNow(1000);
  return (
    <p className="updated" data-testid="updated-ago" aria-live="off">
      <span className={`dot ${refreshing ? "dot-busy" : ""}`} aria-hidden="true" />
      {updatedAt > 0 ? (
        <>
          Updated{" "}
          <time dateTime={new Date(updatedAt).toISOString()} title={formatDateTime(updatedAt)}>
            {formatAgo(now - updatedAt)}
          </time>
        </>
      ) : (
        "Waiting for the first update…"
      )}
    </p>
  );
}
