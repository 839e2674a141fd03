import { RANGE_LABEL, RANGES, type RangeKey } from "../model.ts";

/** Props of {@link RangeSelector}. */
export interface RangeSelectorProps {
  value: RangeKey;
  onChange: (range: RangeKey) => void;
}

/** The time range as native radio buttons styled as a segmented control (arrow keys work natively). */
export function RangeSelector({ value, onChange }: RangeSelectorProps) {
  return (
    <fieldset className="segmented" data-testid="range-selector">
      <legend className="visually-hidden">Time range</legend>
      {RANGES.map((range) => (
        <label key={range} className={range === value ? "selected" : undefined}>
          <input
            type="radio"
            name="range"
            value={range}
            checked={range === value}
            onChange={() => onChange(range)}
          />
          {RANGE_LABEL[range]}
        </label>
      ))}
    </fieldset>
  );
}
