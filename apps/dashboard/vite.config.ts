import react from "@vitejs/plugin-react";
import { defineConfig, type ProxyOptions } from "vite";
import { sourceCondition } from "../../source-condition.ts";

/** Where the dev server and `vite preview` forward API calls (set by `pnpm dev`). */
const apiUrl = process.env.HOTPATH_API_URL ?? "http://127.0.0.1:3000";

/** The API paths the dashboard calls, proxied so the browser sees one origin (no CORS). */
export function apiProxy(target: string): Record<string, ProxyOptions> {
  const options: ProxyOptions = { target, changeOrigin: false, xfwd: true };
  return { "/trpc": options, "/healthz": options, "/readyz": options, "/metrics": options };
}

export default defineConfig({
  // Production: the API serves dist/ at /dashboard/ (same origin as /trpc).
  base: "/dashboard/",
  // @hotpath/* from source: the build needs no build of the packages first.
  plugins: [react(), sourceCondition()],
  server: { host: "127.0.0.1", proxy: apiProxy(apiUrl) },
  preview: { host: "127.0.0.1", proxy: apiProxy(apiUrl) },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    // One ~770 kB chunk (~225 kB gzip: React, Recharts, TanStack Query, zod); fine for an ops page.
    chunkSizeWarningLimit: 1000,
  },
});
