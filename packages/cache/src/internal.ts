/**
 * Building blocks shared with other Hotpath packages (not part of the public API; may change
 * without notice): the metrics recorder and counter lists, the default serializer, ISO weeks.
 */
export {
  CACHE_COUNTERS,
  IDEMPOTENCY_COUNTERS,
  LOCK_COUNTERS,
  createMetricsRecorder,
  readMetrics,
  type MetricsRecorder,
  type MetricsRecorderOptions,
} from "./metrics.ts";
export { defaultSerializer } from "./serializer.ts";
