import { sha256Hex } from "./ids.ts";
import type { MessageRecord } from "./message.ts";

/**
 * A message's header and body as the events log and DLQ show them: fields named by
 * Upstash-Redact-Fields replaced with `REDACTED:<sha256>`.
 */
export function redactMessage(message: MessageRecord): {
  header: Record<string, string[]>;
  bodyBase64: string;
} {
  const redaction = message.redact;
  if (!redaction) return { header: message.header, bodyBase64: message.bodyBase64 };
  const header: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(message.header)) {
    const hide = redaction.allHeaders || redaction.headers.includes(name);
    header[name] = hide ? values.map((value) => `REDACTED:${sha256Hex(value)}`) : values;
  }
  const bodyBase64 = redaction.body
    ? Buffer.from(`REDACTED:${sha256Hex(Buffer.from(message.bodyBase64, "base64"))}`).toString(
        "base64",
      )
    : message.bodyBase64;
  return { header, bodyBase64 };
}
