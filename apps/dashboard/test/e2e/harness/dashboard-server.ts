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
export async function buildAndPreview(options: {
  apiUrl: string;
  port: number;
  outDir: string;
}): Promise<DashboardServer> {
  const { apiProxy } = await import("../../../vite.config.ts");
  // Vitest runs with NODE_ENV=test, which would give a development bundle (jsxDEV, React dev
  // build); the browser must get the production bundle users get.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      root: appRoot,
      configFile: join(appRoot, "vite.config.ts"),
      mode: "production",
      logLevel: "warn",
      build: { outDir: options.outDir },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const server: PreviewServer = await preview({
    root: appRoot,
    configFile: join(appRoot, "vite.config.ts"),
    // Proxy errors are expected while the test stops the API; the test asserts on the page instead.
    logLevel: "silent",
    build: { outDir: options.outDir },
    preview: {
      port: options.port,
      strictPort: true,
      host: "127.0.0.1",
      proxy: apiProxy(options.apiUrl),
    },
  });
  return {
    url: `http://127.0.0.1:${options.port}/dashboard/`,
    close: () => server.close(),
  };
}
