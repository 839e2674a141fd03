import { TTL_MEDIUM } from "@hotpath/config";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { findCredentials, findUserById } from "../../db/users.ts";
import { SESSION_COOKIE, type Context } from "../context.ts";
import { ApiError } from "../errors.ts";
import { usernameSchema } from "../inputs.ts";
import { authedProcedure, publicProcedure, rateLimited } from "../procedures.ts";

const loginInput = z.object({
  username: usernameSchema,
  password: z
    .string({ message: "expected a password" })
    .min(1, { message: "must not be empty" })
    .max(256),
});

// Verified when the username is unknown, so both paths cost one KDF run (no user enumeration by timing).
const DUMMY_HASH =
  "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

/** `Set-Cookie` for the session: httpOnly, SameSite=Lax, Secure when the request came over HTTPS. */
export function sessionCookie(
  ctx: Pick<Context, "secure">,
  id: string,
  maxAgeSeconds: number,
): string {
  const parts = [
    `${SESSION_COOKIE}=${id}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    `Max-Age=${maxAgeSeconds}`,
  ];
  if (ctx.secure) parts.push("Secure");
  return parts.join("; ");
}

/** Sessions: login (AUTH limit, fails closed), me (sliding expiry), logout. */
export const sessionsRouter = {
  /** Checks the password (PBKDF2-SHA256), creates a Redis session, sets the cookie and returns the token. */
  login: publicProcedure
    .use(rateLimited("AUTH"))
    .input(loginInput)
    .mutation(async ({ ctx, input }) => {
      const credentials = await findCredentials(ctx.deps.db, input.username);
      const valid = await ctx.deps.passwords.verify(
        input.password,
        credentials?.passwordHash ?? DUMMY_HASH,
      );
      if (!credentials || !valid)
        throw new ApiError("INVALID_CREDENTIALS", "Unknown username or wrong password");
      const session = await ctx.deps.sessions.create({
        userId: credentials.id,
        username: credentials.username,
        plan: credentials.plan,
        createdAt: Date.now(),
      });
      ctx.resHeaders.append(
        "Set-Cookie",
        sessionCookie(ctx, session.id, ctx.deps.settings.sessionTtlSeconds),
      );
      ctx.resHeaders.set("Cache-Control", "no-store");
      return {
        token: session.id,
        expiresAt: session.expiresAt,
        user: { id: credentials.id, username: credentials.username, plan: credentials.plan },
      };
    }),

  /** The logged-in user; every call slides the session's expiry (and refreshes the cookie). */
  me: authedProcedure.query(async ({ ctx }) => {
    const { value: user } = await ctx.deps.cache.getOrSet(
      "user",
      String(ctx.user.id),
      () => findUserById(ctx.deps.db, ctx.user.id),
      {
        ttlSeconds: TTL_MEDIUM,
        lock: true,
      },
    );
    if (!user) throw new ApiError("UNAUTHORIZED", "This session's user no longer exists");
    const principal = await ctx.principal();
    const expiresAt = principal.kind === "user" ? principal.expiresAt : Date.now();
    if (ctx.headers.get("cookie")?.includes(`${SESSION_COOKIE}=`)) {
      ctx.resHeaders.append(
        "Set-Cookie",
        sessionCookie(ctx, ctx.user.sessionId, ctx.deps.settings.sessionTtlSeconds),
      );
    }
    return { user, expiresAt };
  }),

  /** Ends the session and clears the cookie. */
  logout: authedProcedure.mutation(async ({ ctx }) => {
    await ctx.deps.sessions.destroy(ctx.user.sessionId);
    ctx.resHeaders.append("Set-Cookie", sessionCookie(ctx, "", 0));
    return { ok: true as const };
  }),
} satisfies TRPCRouterRecord;
