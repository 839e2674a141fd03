import { useId } from "react";

/** Props of {@link SeriesSelect}. */
export interface SeriesSelectProps {
  label: string;
  options: readonly string[];
  /** The selected option; `null` = all. */
  value: string | null;
  onChange: (value: string | null) => void;
  allLabel: string;
}

/** A labelled native `<select>` (keyboard and screen-reader friendly) with an "all" choice. */
export function SeriesSelect({ label, options, value, onChange, allLabel }: SeriesSelectProps) {
  const id = useId();
  return (
    <label className="series-select" htmlFor={id}>
      <span>{label}</span>
      <select
        id={id}
        value={value ?? ""}
        onChange={(event) => onChange(event.target.value || null)}
      >
        <option value="">{allLabel}</option>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </label>
  );
}
