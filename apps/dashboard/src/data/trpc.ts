import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import type { AppRouter } from "./api-types.ts";

/** tRPC + TanStack Query bindings typed against the API's router (types only, no server code). */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/**
 * The dashboard's tRPC client: one batched HTTP request per refresh, the admin token sent as
 * `Authorization: Bearer …` (read on every request, so a new token applies at once).
 */
export function createDashboardClient(url: string, getToken: () => string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url,
        maxURLLength: 4000,
        headers() {
          const token = getToken();
          return token ? { authorization: `Bearer ${token}` } : {};
        },
      }),
    ],
  });
}
