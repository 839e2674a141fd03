import type { Client } from "@upstash/qstash";
import { ApiError } from "../trpc/errors.ts";
import { callQStash } from "./qstash-call.ts";

/** The part of the `@upstash/qstash` Client the DLQ actions use. */
export type DlqClient = Pick<Client, "dlq">;

/** What a DLQ retry did: the message went back to delivery under a new message id. */
export interface DlqRetryResult {
  dlqId: string;
  messageId: string;
}

/**
 * Sends one DLQ message back to delivery (QStash's own retry route: same destination, body and
 * headers, new message id) and removes it from the DLQ.
 * @throws ApiError NOT_FOUND when the DLQ has no such id, QSTASH_UNAVAILABLE when QStash does not answer.
 */
export async function retryDlqMessage(client: DlqClient, dlqId: string): Promise<DlqRetryResult> {
  const { responses } = await callQStash(`DLQ message ${dlqId}`, () => client.dlq.retry(dlqId));
  const messageId = responses[0]?.messageId;
  // The retry route answers an empty list for an id it does not hold.
  if (!messageId) throw new ApiError("NOT_FOUND", `DLQ message ${dlqId} not found`);
  return { dlqId, messageId };
}

/**
 * Deletes one DLQ message for good.
 * @throws ApiError NOT_FOUND when the DLQ has no such id, QSTASH_UNAVAILABLE when QStash does not answer.
 */
export async function deleteDlqMessage(
  client: DlqClient,
  dlqId: string,
): Promise<{ dlqId: string; deleted: true }> {
  await callQStash(`DLQ message ${dlqId}`, () => client.dlq.delete(dlqId));
  return { dlqId, deleted: true };
}
