import { z } from "zod";

/** A positive 32-bit row id. */
export const idSchema = z
  .number({ message: "expected a numeric id" })
  .int()
  .positive()
  .max(2_147_483_647);

/** A username: 3–32 of a-z, 0-9, _ (case-insensitive on input). */
export const usernameSchema = z
  .string({ message: "expected a username" })
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9_]{3,32}$/, { message: "3 to 32 characters: letters, digits or _" });

/** Leaderboard boards. */
export const boardSchema = z.enum(["creators", "tippers"]);
/** Leaderboard periods. */
export const periodSchema = z.enum(["daily", "weekly", "alltime"]);

/** A tip amount: positive, at most 2 decimals, at most 10,000. Returned as integer cents. */
export const amountSchema = z
  .number({ message: "expected an amount such as 5 or 12.5" })
  .positive({ message: "must be greater than 0" })
  .max(10_000, { message: "must be at most 10000" })
  .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, {
    message: "at most 2 decimal places",
  });

/** Converts a validated amount to integer cents. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}
