/** Stable codes of {@link ConfigError}. */
export type ConfigErrorCode =
  | "CONFIG_INVALID_ENV"
  | "CONFIG_INVALID_DURATION"
  | "CONFIG_INVALID_POLICY"
  | "CONFIG_INVALID_KEY"
  | "CONFIG_CROSS_SLOT";

/** The one error class of `@hotpath/config`: bad env, durations, policies, key parts or key slots. */
export class ConfigError extends Error {
  override name = "ConfigError";
  /** Stable machine-readable code. */
  readonly code: ConfigErrorCode;
  /** One entry per problem found (field name and what was wrong). */
  readonly issues: readonly ConfigIssue[];

  constructor(
    code: ConfigErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ConfigIssue[] },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.issues = options?.issues ?? [];
  }
}

/** One problem in a configuration source. */
export interface ConfigIssue {
  /** The field (env variable, policy name…) at fault. */
  readonly field: string;
  /** What was wrong with it, in words. */
  readonly message: string;
}
