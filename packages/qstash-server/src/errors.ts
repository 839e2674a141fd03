/** Stable codes of {@link QStashServerError}. */
export type QStashServerErrorCode =
  | "QSTASH_CONFIG"
  | "QSTASH_LISTEN"
  | "QSTASH_CLOSED"
  | "QSTASH_BAD_REQUEST"
  | "QSTASH_UNAUTHORIZED"
  | "QSTASH_NOT_FOUND"
  | "QSTASH_NOT_IMPLEMENTED"
  | "QSTASH_PAYLOAD_TOO_LARGE"
  | "QSTASH_CONFLICT";

const STATUS_OF_CODE: Partial<Record<QStashServerErrorCode, number>> = {
  QSTASH_BAD_REQUEST: 400,
  QSTASH_UNAUTHORIZED: 401,
  QSTASH_NOT_FOUND: 404,
  QSTASH_CONFLICT: 409,
  QSTASH_PAYLOAD_TOO_LARGE: 413,
  QSTASH_NOT_IMPLEMENTED: 501,
};

/**
 * The one error class of `@hotpath/qstash-server`: bad options, a port that cannot be bound, and
 * every request error (its {@link status} is the HTTP status the client gets).
 */
export class QStashServerError extends Error {
  override name = "QStashServerError";
  /** Stable machine-readable code. */
  readonly code: QStashServerErrorCode;
  /** HTTP status for request errors (500 for anything that is not a request error). */
  readonly status: number;

  constructor(code: QStashServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.status = STATUS_OF_CODE[code] ?? 500;
  }
}

/** A 400 naming what is wrong with the request. */
export function badRequest(message: string, cause?: unknown): QStashServerError {
  return new QStashServerError("QSTASH_BAD_REQUEST", message, { cause });
}

/** A 404 naming what was not found. */
export function notFound(message: string): QStashServerError {
  return new QStashServerError("QSTASH_NOT_FOUND", message);
}
