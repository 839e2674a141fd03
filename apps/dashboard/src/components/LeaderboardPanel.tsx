import { useRef, type KeyboardEvent } from "react";
import { formatMoney, formatRankChange } from "../format.ts";
import { PERIOD_LABEL, PERIODS, type Period, type RankedEntry } from "../model.ts";
import { Panel } from "./Panel.tsx";

/** Props of {@link LeaderboardPanel}. */
export interface LeaderboardPanelProps {
  period: Period;
  onPeriodChange: (period: Period) => void;
  entries: readonly RankedEntry[] | undefined;
  currency?: string;
}

/**
 * Tip leaderboards (daily / weekly / all time) as an ARIA tab list: arrow keys move between tabs,
 * Tab moves into the table. Rank changes are against the previous snapshot of the same board.
 */
export function LeaderboardPanel({
  period,
  onPeriodChange,
  entries,
  currency = "USD",
}: LeaderboardPanelProps) {
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = PERIODS.indexOf(period);
    let next: number | null = null;
    if (event.key === "ArrowRight") next = (index + 1) % PERIODS.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + PERIODS.length) % PERIODS.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = PERIODS.length - 1;
    if (next === null) return;
    event.preventDefault();
    const nextPeriod = PERIODS[next];
    if (nextPeriod) onPeriodChange(nextPeriod);
    tabs.current[next]?.focus();
  };
  return (
    <Panel
      id="leaderboard"
      title="Top creators by tips"
      actions={
        <div role="tablist" aria-label="Leaderboard period" className="tabs" onKeyDown={onKeyDown}>
          {PERIODS.map((p, i) => (
            <button
              key={p}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`leaderboard-tab-${p}`}
              aria-selected={p === period}
              aria-controls="leaderboard-table"
              tabIndex={p === period ? 0 : -1}
              onClick={() => onPeriodChange(p)}
            >
              {PERIOD_LABEL[p]}
            </button>
          ))}
        </div>
      }
    >
      <div role="tabpanel" id="leaderboard-table" aria-labelledby={`leaderboard-tab-${period}`}>
        {entries === undefined ? (
          <p className="state state-loading" role="status">
            Loading…
          </p>
        ) : entries.length === 0 ? (
          <p className="state state-empty">No tips in this period yet.</p>
        ) : (
          <table className="data-table" data-testid="leaderboard-table">
            <thead>
              <tr>
                <th scope="col" className="num">
                  #
                </th>
                <th scope="col">Creator</th>
                <th scope="col" className="num">
                  Tips
                </th>
                <th scope="col" className="num">
                  Change
                </th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.member} data-member={entry.member}>
                  <td className="num">{entry.rank}</td>
                  <th scope="row">{entry.label}</th>
                  <td className="num">{formatMoney(entry.score, currency)}</td>
                  <td
                    className={`num change ${entry.change === null ? "change-new" : entry.change > 0 ? "change-up" : entry.change < 0 ? "change-down" : ""}`}
                    aria-label={
                      entry.change === null
                        ? "new on the board"
                        : entry.change === 0
                          ? "no change"
                          : `${entry.change > 0 ? "up" : "down"} ${Math.abs(entry.change)}`
                    }
                  >
                    {formatRankChange(entry.change)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </Panel>
  );
}
