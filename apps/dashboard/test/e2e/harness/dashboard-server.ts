import { join } from "node:path";
import { build, preview, type PreviewServer } from "vite";

const appRoot = join(import.meta.dirname, "..", "..", "..");

/** The built dashboard served by `vite preview`, with /trpc proxied to the API. */
export interface DashboardServer {
  /** URL of the dashboard page (ends with /dashboard/). */
  url: string;
  close(): Promise<void>;
}

/**
 * Builds the dashboard into `outDir` (production bundle, base /dashboard/) and serves it with
 * `vite preview` on `port`, proxying the API paths to `apiUrl`, as `pnpm dev` does.
 */
export async function buildAndPreview(options: { apiUrl: string; port: number; outDir: string }): Promise<DashboardServer> {
  const { apiProxy } = await import("../../../vite.config.ts");
  await build({ root: appRoot, configFile: join(appRoot, "vite.config.ts"), logLevel: "warn", build: { outDir: options.outDir } });
  const server: PreviewServer = await preview({
    root: appRoot,
    configFile: join(appRoot, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir: options.outDir },
    preview: { port: options.port, strictPort: true, host: "127.0.0.1", proxy: apiProxy(options.apiUrl) },
  });
  return {
    url: `http://127.0.0.1:${options.port}/dashboard/`,
    close: () => server.close(),
  };
}
