export {
  defineJob,
  jobEnvelopeSchema,
  type AnyJobDefinition,
  type JobContext,
  type JobDefinition,
  type JobEnvelope,
  type JobName,
  type JobPayload,
} from "./definition.ts";
export { JobsError, type JobsErrorCode } from "./errors.ts";
export {
  NON_RETRYABLE_STATUS,
  createJobHandler,
  type JobFailure,
  type JobFailureReason,
  type JobHandlerOptions,
} from "./handler.ts";
export {
  JOB_COUNTERS,
  readJobMetrics,
  type JobCounter,
  type JobMetricsRow,
  type JobMetricsSink,
} from "./metrics.ts";
export {
  createJobPublisher,
  type BatchItem,
  type JobPublisher,
  type JobPublisherOptions,
  type PublishOptions,
  type PublishedJob,
  type ScheduleOptions,
} from "./publisher.ts";
