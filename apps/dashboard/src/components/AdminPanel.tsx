import { useId, useState, type FormEvent } from "react";
import type { AdminAction, AdminControlsView, QuotaRow } from "../admin-model.ts";
import { confirmQuestion } from "../data/admin-actions.ts";
import { ControlsTables, QuotaTable } from "./AdminTables.tsx";
import { ConfirmButton } from "./ConfirmButton.tsx";
import { Panel } from "./Panel.tsx";

/** Props of {@link AdminPanel}. */
export interface AdminPanelProps {
  /** The identifier being acted on (typed, or picked with "Act on" in a top identifiers table). */
  identifier: string;
  onIdentifierChange: (identifier: string) => void;
  /** Shows the quota of the identifier typed. */
  onLookup: () => void;
  /** The identifier whose quota is shown, and that quota. */
  quotaFor: string | null;
  quota: readonly QuotaRow[] | undefined;
  quotaError: string | null;
  controls: AdminControlsView | undefined;
  /** Runs a confirmed action; resolves with the line to show, rejects with one for people. */
  run: (action: AdminAction) => Promise<string>;
}

type Outcome =
  { state: "idle" } | { state: "running" } | { state: "done" | "failed"; text: string };

/** A labelled text field of the admin forms. */
function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  inputMode?: "decimal" | "numeric";
}) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        value={props.value}
        placeholder={props.placeholder}
        inputMode={props.inputMode}
        autoComplete="off"
        spellCheck={false}
        onChange={(event) => props.onChange(event.target.value)}
      />
    </span>
  );
}

/** A number as typed, `undefined` when left empty (the API names the field if it is not a number). */
function typedNumber(text: string): number | undefined {
  return text.trim() === "" ? undefined : Number(text.trim());
}

/**
 * Operator actions (admin token): reset an identifier's limits, deny an identifier or an IP, set an
 * override, invalidate a cache namespace or tag; each one confirmed first and audited by the API.
 * Shows the identifier's quota and the deny list and overrides in force, re-read after each action.
 */
export function AdminPanel(props: AdminPanelProps) {
  const { identifier, controls, run } = props;
  const [outcome, setOutcome] = useState<Outcome>({ state: "idle" });
  const [multiplier, setMultiplier] = useState("");
  const [policy, setPolicy] = useState("");
  const [limit, setLimit] = useState("");
  const [ip, setIp] = useState("");
  const [namespace, setNamespace] = useState("");
  const [tag, setTag] = useState("");
  const policyId = useId();
  const busy = outcome.state === "running";
  const id = identifier.trim();

  const perform = (action: AdminAction) => {
    setOutcome({ state: "running" });
    run(action).then(
      (text) => setOutcome({ state: "done", text }),
      (error: unknown) =>
        setOutcome({
          state: "failed",
          text: error instanceof Error ? error.message : String(error),
        }),
    );
  };
  const lookup = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (id) props.onLookup();
  };

  const limitValue = typedNumber(limit);
  const override: AdminAction = {
    kind: "override",
    override: {
      identifier: id,
      multiplier: typedNumber(multiplier),
      limits: policy && limitValue !== undefined ? { [policy]: limitValue } : undefined,
    },
  };
  const actions: { label: string; action: AdminAction; disabled: boolean; danger?: boolean }[] = [
    { label: "Reset limits", action: { kind: "reset", identifier: id }, disabled: !id },
    {
      label: "Deny identifier",
      action: { kind: "deny", target: { kind: "identifier", value: id } },
      disabled: !id,
      danger: true,
    },
    {
      label: "Set override",
      action: override,
      disabled: !id || (multiplier.trim() === "" && (policy === "" || limit.trim() === "")),
    },
  ];

  return (
    <Panel id="admin" title="Admin actions" className="panel-wide">
      <form className="admin-row" onSubmit={lookup} aria-label="Identifier lookup">
        <Field
          label="Identifier"
          name="identifier"
          value={identifier}
          onChange={props.onIdentifierChange}
          placeholder="user_… (Act on, in the tables above)"
        />
        <button type="submit" disabled={!id}>
          Show quota
        </button>
      </form>
      {props.quotaError ? (
        <p className="banner banner-error" role="alert" data-testid="quota-error">
          {props.quotaError}
        </p>
      ) : null}
      {props.quotaFor !== null && props.quota ? (
        <QuotaTable identifier={props.quotaFor} rows={props.quota} />
      ) : null}
      <div className="admin-row" role="group" aria-label="Override">
        <Field
          label="Multiplier"
          name="multiplier"
          value={multiplier}
          onChange={setMultiplier}
          placeholder="e.g. 10"
          inputMode="decimal"
        />
        <span className="field">
          <label htmlFor={policyId}>Policy</label>
          <select id={policyId} value={policy} onChange={(event) => setPolicy(event.target.value)}>
            <option value="">(every policy)</option>
            {(controls?.policies ?? []).map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </span>
        <Field
          label="Limit"
          name="limit"
          value={limit}
          onChange={setLimit}
          placeholder="requests per window"
          inputMode="numeric"
        />
      </div>
      <div className="admin-row" role="group" aria-label="Identifier actions">
        {actions.map(({ label, action, disabled, danger }) => (
          <ConfirmButton
            key={label}
            label={label}
            question={confirmQuestion(action)}
            disabled={busy || disabled}
            danger={danger}
            onConfirm={() => perform(action)}
          />
        ))}
      </div>
      <div className="admin-row" role="group" aria-label="Deny an IP">
        <Field label="IP" name="ip" value={ip} onChange={setIp} placeholder="203.0.113.7" />
        <ConfirmButton
          label="Deny IP"
          danger
          question={confirmQuestion({ kind: "deny", target: { kind: "ip", value: ip.trim() } })}
          disabled={busy || !ip.trim()}
          onConfirm={() => perform({ kind: "deny", target: { kind: "ip", value: ip.trim() } })}
        />
      </div>
      <div className="admin-row" role="group" aria-label="Cache">
        <Field label="Namespace" name="namespace" value={namespace} onChange={setNamespace} />
        <ConfirmButton
          label="Invalidate namespace"
          danger
          question={confirmQuestion({ kind: "invalidateNamespace", namespace: namespace.trim() })}
          disabled={busy || !namespace.trim()}
          onConfirm={() => perform({ kind: "invalidateNamespace", namespace: namespace.trim() })}
        />
        <Field label="Tag" name="tag" value={tag} onChange={setTag} />
        <ConfirmButton
          label="Invalidate tag"
          danger
          question={confirmQuestion({
            kind: "invalidateTag",
            namespace: namespace.trim(),
            tag: tag.trim(),
          })}
          disabled={busy || !namespace.trim() || !tag.trim()}
          onConfirm={() =>
            perform({ kind: "invalidateTag", namespace: namespace.trim(), tag: tag.trim() })
          }
        />
      </div>
      <p
        className={outcome.state === "failed" ? "banner banner-error" : "admin-outcome"}
        role={outcome.state === "failed" ? "alert" : "status"}
        data-testid="admin-outcome"
      >
        {outcome.state === "running" ? "Working…" : outcome.state === "idle" ? "" : outcome.text}
      </p>
      {controls ? <ControlsTables controls={controls} busy={busy} onAction={perform} /> : null}
    </Panel>
  );
}
