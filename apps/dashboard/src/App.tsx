import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Dashboard } from "./Dashboard.tsx";
import type { TokenStore } from "./data/token-store.ts";
import { createDashboardClient, TRPCProvider } from "./data/trpc.ts";

/** Props of {@link App}. */
export interface AppProps {
  /** tRPC endpoint, `/trpc` (same origin: the API serves the dashboard, or Vite proxies). */
  apiUrl: string;
  pollIntervalMs: number;
  tokenStore: TokenStore;
}

/** Query cache, typed tRPC client and the dashboard page. */
export function App({ apiUrl, pollIntervalMs, tokenStore }: AppProps) {
  const [queryClient] = useState(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            // One quick retry, then the next poll tries again: the banner shows within a poll or two.
            retry: 1,
            retryDelay: 500,
            refetchOnWindowFocus: true,
            staleTime: pollIntervalMs / 2,
          },
        },
      }),
  );
  const [trpcClient] = useState(() => createDashboardClient(apiUrl, () => tokenStore.get()));
  // A new token: drop everything fetched with the old one and fetch again.
  useEffect(
    () => tokenStore.subscribe(() => void queryClient.resetQueries()),
    [tokenStore, queryClient],
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        <Dashboard tokenStore={tokenStore} pollIntervalMs={pollIntervalMs} />
      </TRPCProvider>
    </QueryClientProvider>
  );
}
