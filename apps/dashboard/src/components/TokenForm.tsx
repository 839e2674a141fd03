import { useId, useState, type FormEvent } from "react";

/** Props of {@link TokenForm}. */
export interface TokenFormProps {
  /** Why the token is asked for (first visit or a rejected token). */
  message: string;
  rejected: boolean;
  onSubmit: (token: string) => void;
}

/**
 * Admin token entry. The token goes to sessionStorage via the token store, never into the URL:
 * the form has no action and submits nothing anywhere itself.
 */
export function TokenForm({ message, rejected, onSubmit }: TokenFormProps) {
  const inputId = useId();
  const [value, setValue] = useState("");
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (value.trim()) onSubmit(value.trim());
  };
  return (
    <form
      className="token-form"
      onSubmit={submit}
      data-testid="token-form"
      method="post"
      autoComplete="off"
    >
      <h2>Admin token</h2>
      <p
        className={rejected ? "banner banner-error" : undefined}
        role={rejected ? "alert" : undefined}
        data-testid="token-message"
      >
        {message}
      </p>
      <label htmlFor={inputId}>Token</label>
      <input
        id={inputId}
        name="admin-token"
        type="password"
        autoComplete="off"
        spellCheck={false}
        value={value}
        onChange={(event) => setValue(event.target.value)}
        required
        minLength={1}
      />
      <button type="submit">Open dashboard</button>
      <p className="hint">Kept in this tab only (sessionStorage), never in the address bar.</p>
    </form>
  );
}
