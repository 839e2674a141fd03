import { useEffect, useId, useRef, useState } from "react";

/** Props of {@link ConfirmButton}. */
export interface ConfirmButtonProps {
  /** The button's text, e.g. `Reset limits`. */
  label: string;
  /** What will happen, asked before anything runs, e.g. `Reset the counters of user_ab12?`. */
  question: string;
  /** Runs only after the operator confirmed. */
  onConfirm: () => void;
  disabled?: boolean;
  /** Marks a destructive action (red confirm button). */
  danger?: boolean;
  /** Accessible name of the first button when `label` alone is ambiguous in a table row. */
  ariaLabel?: string;
}

/**
 * A button whose action needs a second, explicit step: the first click turns it into an inline
 * `alertdialog` holding the question, "Confirm" (focused) and "Cancel" (Escape cancels too).
 * Nothing runs on the first click.
 */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  disabled,
  danger,
  ariaLabel,
}: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const questionId = useId();
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
    else if (wasAsking.current) openerRef.current?.focus();
    wasAsking.current = asking;
  }, [asking]);

  if (!asking) {
    return (
      <button
        ref={openerRef}
        type="button"
        disabled={disabled}
        aria-label={ariaLabel}
        onClick={() => setAsking(true)}
      >
        {label}
      </button>
    );
  }
  return (
    <span
      className="confirm"
      role="alertdialog"
      aria-labelledby={questionId}
      onKeyDown={(event) => {
        if (event.key === "Escape") setAsking(false);
      }}
    >
      <span id={questionId} className="confirm-question">
        {question}
      </span>{" "}
      <button
        ref={confirmRef}
        type="button"
        className={danger ? "danger" : undefined}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Confirm
      </button>{" "}
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
