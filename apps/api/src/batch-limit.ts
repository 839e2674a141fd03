/**
 * Most calls in one tRPC batch request: the server answers a larger batch with 400 and the typed
 * client splits its batches at this size. Shared so the two never disagree.
 */
export const MAX_BATCH_SIZE = 16;
