/** Stable codes of {@link GatewayError}. */
export type GatewayErrorCode = "GATEWAY_CONFIG" | "GATEWAY_LISTEN" | "GATEWAY_CLOSED";

/** The one error class of `@hotpath/gateway`: bad options, a port that cannot be bound, use after close. */
export class GatewayError extends Error {
  override name = "GatewayError";
  /** Stable machine-readable code. */
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.code = code;
  }
}
