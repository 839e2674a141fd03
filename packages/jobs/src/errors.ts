/** Stable codes of {@link JobsError}. */
export type JobsErrorCode =
  | "JOBS_INVALID_PAYLOAD"
  | "JOBS_UNKNOWN_JOB"
  | "JOBS_DUPLICATE_JOB"
  | "JOBS_PUBLISH_FAILED"
  | "JOBS_INVALID_OPTION";

/** The one base error class of `@hotpath/jobs`: every error it throws is one (check `code`). */
export class JobsError extends Error {
  override name = "JobsError";
  /** Stable machine-readable code. */
  readonly code: JobsErrorCode;
  /** The job the error is about, when one applies. */
  readonly job: string | undefined;

  constructor(
    code: JobsErrorCode,
    message: string,
    options?: { cause?: unknown; job?: string | undefined },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.job = options?.job;
  }
}
