import { z } from "zod";
import { JobsError } from "./errors.ts";

/** What a handler learns about the delivery it runs in. */
export interface JobContext {
  /** `Upstash-Message-Id`: the unit of at-most-once execution. */
  messageId: string;
  /** `Upstash-Retried`: 0 on the first delivery. */
  retried: number;
  /** `Upstash-Schedule-Id` when a schedule produced the message. */
  scheduleId: string | undefined;
  /** Aborts when the idempotency lease of this message is lost: stop before committing. */
  signal: AbortSignal;
}

/** A typed job: a name, the zod schema of its payload, and the handler that runs it. */
export interface JobDefinition<
  TName extends string = string,
  TSchema extends z.ZodType = z.ZodType,
> {
  readonly name: TName;
  readonly schema: TSchema;
  /** Runs one delivery; throwing makes QStash retry the message. */
  run(payload: z.output<TSchema>, context: JobContext): Promise<void> | void;
}

/** Any job definition (a registry's element type; `run` is a method, so specific jobs fit). */
export type AnyJobDefinition = JobDefinition<string, z.ZodType>;

/** The names of a registry's jobs. */
export type JobName<TJobs extends readonly AnyJobDefinition[]> = TJobs[number]["name"];

/** The payload a publisher accepts for job `TName` (the schema's input type). */
export type JobPayload<
  TJobs extends readonly AnyJobDefinition[],
  TName extends JobName<TJobs>,
> = z.input<Extract<TJobs[number], { name: TName }>["schema"]>;

const JOB_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * Defines a job. Names are lower-case kebab (`apply-tip`): they travel in the signed body.
 * @example defineJob("apply-tip", z.object({ tipId: z.number() }), async ({ tipId }) => {...})
 */
export function defineJob<TName extends string, TSchema extends z.ZodType>(
  name: TName,
  schema: TSchema,
  run: (payload: z.output<TSchema>, context: JobContext) => Promise<void> | void,
): JobDefinition<TName, TSchema> {
  if (!JOB_NAME.test(name)) {
    throw new JobsError(
      "JOBS_INVALID_OPTION",
      `Job name "${name}" must be lower-case kebab case (a-z, 0-9, -), at most 64 characters.`,
      { job: name },
    );
  }
  return { name, schema, run };
}

/** Indexes job definitions by name; a name used twice throws JOBS_DUPLICATE_JOB. */
export function indexJobs(
  jobs: readonly AnyJobDefinition[],
): ReadonlyMap<string, AnyJobDefinition> {
  const byName = new Map<string, AnyJobDefinition>();
  for (const job of jobs) {
    if (byName.has(job.name)) {
      throw new JobsError("JOBS_DUPLICATE_JOB", `Job "${job.name}" is defined twice.`, {
        job: job.name,
      });
    }
    byName.set(job.name, job);
  }
  return byName;
}

/**
 * The body of every job message: the job name and its payload, both covered by the delivery's
 * signature (QStash signs the body hash, not the headers).
 */
export const jobEnvelopeSchema = z.object({ job: z.string().min(1), payload: z.unknown() });

/** A parsed {@link jobEnvelopeSchema}. */
export type JobEnvelope = z.output<typeof jobEnvelopeSchema>;

/**
 * Validates `payload` against the job's schema and returns the envelope to send.
 * @throws JobsError JOBS_UNKNOWN_JOB or JOBS_INVALID_PAYLOAD (nothing is sent).
 */
export function buildEnvelope(
  jobs: ReadonlyMap<string, AnyJobDefinition>,
  name: string,
  payload: unknown,
): JobEnvelope {
  const job = jobs.get(name);
  if (!job) throw new JobsError("JOBS_UNKNOWN_JOB", `Unknown job "${name}".`, { job: name });
  const parsed = job.schema.safeParse(payload);
  if (!parsed.success) {
    throw new JobsError(
      "JOBS_INVALID_PAYLOAD",
      `Invalid payload for job "${name}": ${z.prettifyError(parsed.error)}`,
      { job: name, cause: parsed.error },
    );
  }
  // The payload as given (not the parsed output): the handler parses it again on delivery.
  return { job: name, payload };
}
