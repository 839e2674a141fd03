import { formatAgo, formatDateTime, formatMoney } from "../format.ts";
import type { FeedItem } from "../model.ts";
import { Panel } from "./Panel.tsx";
import { useNow } from "./use-now.ts";

/** Props of {@link FeedPanel}. */
export interface FeedPanelProps {
  items: readonly FeedItem[] | undefined;
  currency?: string;
}

/** Recent activity, newest first; each item keyed by id so a refresh only adds rows. */
export function FeedPanel({ items, currency = "USD" }: FeedPanelProps) {
  const now = useNow(5000);
  return (
    <Panel
      id="feed"
      title="Recent activity"
      loading={items === undefined}
      empty={items !== undefined && items.length === 0 && "No activity yet."}
    >
      <ol className="feed" data-testid="feed-list">
        {(items ?? []).map((item) => (
          <li key={item.id} data-feed-id={item.id}>
            <span className="feed-text">{item.text}</span>
            {item.amount !== undefined ? (
              <span className="feed-amount">{formatMoney(item.amount, currency)}</span>
            ) : null}
            <time dateTime={new Date(item.at).toISOString()} title={formatDateTime(item.at)}>
              {formatAgo(now - item.at)}
            </time>
          </li>
        ))}
      </ol>
    </Panel>
  );
}
