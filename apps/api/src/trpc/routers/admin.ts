import type { TRPCRouterRecord } from "@trpc/server";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { listAuditEntries } from "../../db/admin-audit.ts";
import { adminProcedure, auditedAdminProcedure } from "../procedures.ts";

/** A rate-limit identifier as the limiter keys it (`user_<hash>`, `key_<hash>`, `ip_<hash>`…). */
const identifierSchema = z
  .string({ message: "expected an identifier such as user_0123…" })
  .trim()
  .min(1, { message: "must not be empty" })
  .max(256, { message: "at most 256 characters" })
  .regex(/^[\x21-\x7e]+$/, { message: "printable ASCII without spaces" });

const identifierInput = z.object({ identifier: identifierSchema });

const denyInput = z
  .object({
    identifier: identifierSchema.optional(),
    ip: z.string().trim().min(1, { message: "must not be empty" }).max(64).optional(),
  })
  .refine((entry) => (entry.identifier === undefined) !== (entry.ip === undefined), {
    message: "give exactly one of identifier or ip",
    path: ["identifier"],
  });

const overrideInput = z
  .object({
    identifier: identifierSchema,
    multiplier: z
      .number({ message: "expected a number such as 10" })
      .positive({ message: "must be greater than 0" })
      .max(1_000_000)
      .optional(),
    limits: z
      .record(
        z.string().min(1).max(64),
        z.number().int().positive({ message: "must be a positive integer" }).max(1_000_000_000),
      )
      .optional(),
  })
  .refine((input) => input.multiplier !== undefined || input.limits !== undefined, {
    message: "give a multiplier or limits per policy",
    path: ["multiplier"],
  });

/** A cache namespace (the first key part after `cache:`). */
const namespaceSchema = z
  .string({ message: "expected a cache namespace such as user" })
  .trim()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "1 to 64 letters, digits, _ or -" });

const tagInput = z.object({
  namespace: namespaceSchema,
  tag: z.string().trim().min(1, { message: "must not be empty" }).max(256),
});

const auditInput = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  /** Rows older than this id (the `nextBefore` of the previous page). */
  before: z.number().int().positive().optional(),
});

function denyEntry(input: z.output<typeof denyInput>): { identifier: string } | { ip: string } {
  return input.identifier !== undefined ? { identifier: input.identifier } : { ip: input.ip ?? "" };
}

/**
 * Operator actions (admin token only): rate-limit identifiers (reset, deny list, overrides) and
 * cache invalidation. Every mutation is audited to PostgreSQL (`admin_audit`, shown by `audit`).
 */
export const adminRouter = {
  /** The deny list, the overrides and the policy names an override may name. */
  controls: adminProcedure.query(async ({ ctx }) => ({
    ...(await ctx.deps.admin.controls()),
    policies: ctx.deps.admin.policies(),
  })),

  /** An identifier's quota left in every policy. */
  quota: adminProcedure.input(identifierInput).query(async ({ ctx, input }) => ({
    identifier: input.identifier,
    policies: await ctx.deps.admin.quota(input.identifier),
  })),

  /** The audit trail, newest first, in pages (`before`: the `nextBefore` of the previous page). */
  audit: adminProcedure.input(auditInput).query(async ({ ctx, input }) => {
    const entries = await listAuditEntries(ctx.deps.db, input);
    const last = entries.at(-1);
    return {
      entries,
      nextBefore: entries.length === input.limit && last ? last.id : null,
    };
  }),

  /** Clears an identifier's counters in every policy: its next request starts afresh. */
  resetIdentifier: auditedAdminProcedure.input(identifierInput).mutation(async ({ ctx, input }) => {
    ctx.auditTarget(input.identifier);
    await ctx.deps.admin.resetIdentifier(input.identifier);
    return { identifier: input.identifier, reset: true as const };
  }),

  denyList: {
    /** Denies an identifier or a client IP (IPv6 by /64) on every policy. */
    add: auditedAdminProcedure.input(denyInput).mutation(async ({ ctx, input }) => {
      const entry = denyEntry(input);
      ctx.auditTarget("identifier" in entry ? entry.identifier : `ip:${entry.ip}`);
      await ctx.deps.admin.deny(entry);
      return { denied: entry };
    }),
    /** Takes an identifier or IP off the deny list. */
    remove: auditedAdminProcedure.input(denyInput).mutation(async ({ ctx, input }) => {
      const entry = denyEntry(input);
      ctx.auditTarget("identifier" in entry ? entry.identifier : `ip:${entry.ip}`);
      await ctx.deps.admin.allow(entry);
      return { allowed: entry };
    }),
  },

  overrides: {
    /** Sets an identifier's override: a multiplier of every limit and/or exact limits by policy. */
    set: auditedAdminProcedure.input(overrideInput).mutation(async ({ ctx, input }) => {
      ctx.auditTarget(input.identifier);
      const known = new Set(ctx.deps.admin.policies());
      const unknown = Object.keys(input.limits ?? {}).find((policy) => !known.has(policy));
      if (unknown !== undefined) {
        throw new TRPCError({
          code: "BAD_REQUEST",
          message: `limits.${unknown}: unknown policy (known: ${[...known].join(", ")})`,
        });
      }
      const override = { multiplier: input.multiplier, limits: input.limits };
      await ctx.deps.admin.setOverride(input.identifier, override);
      return { identifier: input.identifier, override };
    }),
    /** Removes an identifier's override. */
    remove: auditedAdminProcedure.input(identifierInput).mutation(async ({ ctx, input }) => {
      ctx.auditTarget(input.identifier);
      await ctx.deps.admin.removeOverride(input.identifier);
      return { identifier: input.identifier, removed: true as const };
    }),
  },

  cache: {
    /** Deletes every entry of a cache namespace. */
    invalidateNamespace: auditedAdminProcedure
      .input(z.object({ namespace: namespaceSchema }))
      .mutation(async ({ ctx, input }) => {
        ctx.auditTarget(input.namespace);
        const removed = await ctx.deps.admin.invalidateNamespace(input.namespace);
        return { namespace: input.namespace, removed };
      }),
    /** Deletes the entries of a namespace carrying a tag. */
    invalidateTag: auditedAdminProcedure.input(tagInput).mutation(async ({ ctx, input }) => {
      ctx.auditTarget(`${input.namespace}#${input.tag}`);
      const removed = await ctx.deps.admin.invalidateTag(input.namespace, input.tag);
      return { namespace: input.namespace, tag: input.tag, removed };
    }),
  },
} satisfies TRPCRouterRecord;
