import { TRPCError } from "@trpc/server";
import { middleware } from "../init.ts";

/** Request header carrying the key (IETF draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
/** Response header marking a replayed result. */
export const IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed";

const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * Makes a mutation idempotent per DESIGN.md §3: `Idempotency-Key` required (400 when missing or
 * malformed: 1–255 printable ASCII), scoped per principal and procedure, fingerprinted by the
 * raw input (same key + other payload: 422), first call in flight: 409 + Retry-After, completed:
 * the stored result replayed with `Idempotent-Replayed: true`, Redis unreachable: 503 +
 * Retry-After and the handler does not run. Handler failures release the key.
 */
export function idempotent() {
  return middleware(async ({ ctx, path, getRawInput, next }) => {
    const key = ctx.headers.get(IDEMPOTENCY_KEY_HEADER);
    if (key === null) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: "The Idempotency-Key header is required for this mutation.",
      });
    }
    if (!KEY_PATTERN.test(key)) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: "The Idempotency-Key header must be 1 to 255 printable ASCII characters.",
      });
    }
    const principal = await ctx.principal();
    const who =
      principal.kind === "user"
        ? `user:${principal.userId}`
        : principal.kind === "admin"
          ? "admin"
          : (await ctx.identity()).identifier;
    const payload = await getRawInput();
    let ran: Awaited<ReturnType<typeof next>> | undefined;
    const outcome = await ctx.deps.idempotency.run({
      key,
      scope: `${path}|${who}`,
      payload,
      handler: async (signal) => {
        // The resolver sees `ctx.idempotencySignal`: it aborts when the idempotency lease is lost.
        const result = await next({ ctx: { idempotencySignal: signal } });
        ran = result;
        if (!result.ok) throw result.error;
        return result.data;
      },
    });
    if (outcome.replayed) ctx.resHeaders.set(IDEMPOTENT_REPLAYED_HEADER, "true");
    // A replay never reaches the resolver: hand tRPC the stored result as this middleware's result.
    return ran?.ok
      ? ran
      : ({ ok: true, data: outcome.value } as unknown as NonNullable<typeof ran>);
  });
}
