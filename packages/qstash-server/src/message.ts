/** Which parts of a message the events log and DLQ show as `REDACTED:<sha256>`. */
export interface Redaction {
  body: boolean;
  allHeaders: boolean;
  /** Canonical header names. */
  headers: string[];
}

/** A message as the server stores it in Redis (one JSON value per message). */
export interface MessageRecord {
  messageId: string;
  url: string;
  method: string;
  /** Forwarded headers (prefix stripped) plus Content-Type, Go-canonical names, values unsplit. */
  header: Record<string, string[]>;
  /** The raw body, base64. */
  bodyBase64: string;
  maxRetries: number;
  retryDelayExpression?: string;
  /** When the first delivery may happen, ms since epoch. */
  notBefore: number;
  createdAt: number;
  timeoutMs?: number;
  callback?: string;
  failureCallback?: string;
  callbackHeader?: Record<string, string[]>;
  failureCallbackHeader?: Record<string, string[]>;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  callerIp: string;
  flowControlKey?: string;
  parallelism?: number;
  rate?: number;
  period?: number;
  label?: string;
  labels?: string[];
  redact?: Redaction;
  /** Set on the messages the server sends to a callback / failure callback URL. */
  callbackOf?: "callback" | "failureCallback";
}

/** A message that exhausted its retries, with the last response. */
export interface DlqRecord {
  dlqId: string;
  message: MessageRecord;
  responseStatus?: number;
  responseHeader?: Record<string, string[]>;
  responseBodyBase64?: string;
  /** When it entered the DLQ, ms. */
  time: number;
  error?: string;
}

/** Decodes a base64 body as UTF-8 when it is valid UTF-8, else undefined. */
export function utf8OrUndefined(base64: string): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(base64, "base64"));
  } catch {
    return undefined;
  }
}

/** The body fields QStash answers with: `body` (UTF-8) or `bodyBase64` (binary); none when empty. */
export function bodyFields(base64: string | undefined): { body?: string; bodyBase64?: string } {
  if (!base64) return {};
  const text = utf8OrUndefined(base64);
  return text === undefined ? { bodyBase64: base64 } : { body: text };
}

/** The Message shape `messages.get` returns. */
export function messageView(message: MessageRecord): Record<string, unknown> {
  return {
    messageId: message.messageId,
    url: message.url,
    topicName: message.topicName,
    endpointName: message.endpointName,
    method: message.method,
    header: message.header,
    ...bodyFields(message.bodyBase64),
    maxRetries: message.maxRetries,
    retryDelayExpression: message.retryDelayExpression,
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    callback: message.callback,
    failureCallback: message.failureCallback,
    queueName: message.queueName,
    scheduleId: message.scheduleId,
    callerIp: message.callerIp,
    callerIP: message.callerIp,
    flowControlKey: message.flowControlKey,
    parallelism: message.parallelism,
    rate: message.rate,
    period: message.period,
    label: message.label,
    labels: message.labels,
  };
}
