import type { ReactNode } from "react";

/** Props of {@link Panel}. */
export interface PanelProps {
  id: string;
  title: string;
  /** True while the first load is running (no data yet). */
  loading?: boolean;
  /** Shown instead of the children when there is nothing to show. */
  empty?: string | false;
  /** Controls rendered at the right of the title (selectors). */
  actions?: ReactNode;
  children?: ReactNode;
  className?: string;
}

/**
 * A titled section with the loading and empty states every view shares. Errors are reported once,
 * by the page banner, and the last good data stays visible under it.
 */
export function Panel({ id, title, loading, empty, actions, children, className }: PanelProps) {
  const headingId = `${id}-title`;
  let body: ReactNode = children;
  if (loading) {
    body = (
      <p className="state state-loading" role="status">
        Loading…
      </p>
    );
  } else if (empty) {
    body = <p className="state state-empty">{empty}</p>;
  }
  return (
    <section
      className={`panel ${className ?? ""}`}
      aria-labelledby={headingId}
      data-testid={id}
      aria-busy={loading ?? false}
    >
      <header className="panel-header">
        <h2 id={headingId}>{title}</h2>
        {actions ? <div className="panel-actions">{actions}</div> : null}
      </header>
      {body}
    </section>
  );
}
