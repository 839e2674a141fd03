import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { FetchHandler } from "./handler.ts";

/** The URL path the built dashboard is served under (Vite's `base`). */
export const DASHBOARD_BASE = "/dashboard/";

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

async function fileResponse(path: string, cacheControl: string): Promise<Response | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    const body = await readFile(path);
    return new Response(new Uint8Array(body), {
      status: 200,
      headers: {
        "content-type": CONTENT_TYPES[extname(path)] ?? "application/octet-stream",
        "cache-control": cacheControl,
        "x-content-type-options": "nosniff",
      },
    });
  } catch {
    return undefined;
  }
}

/**
 * Serves the dashboard's production build (`apps/dashboard/dist`, built with base `/dashboard/`)
 * in front of the API's fetch handler, so the page and `/trpc` share one origin:
 * `/dashboard` redirects to `/dashboard/`; hashed files under `assets/` are immutable; any other
 * path under the base answers `index.html` (no-cache). Paths can never leave `distDir`.
 * Node only (reads files): the edge build serves the static files from its platform instead.
 */
export function withDashboardAssets(handler: FetchHandler, distDir: string): FetchHandler {
  const root = resolve(distDir);
  const index = join(root, "index.html");
  return async (request, info) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/dashboard") {
      return new Response(null, { status: 308, headers: { location: DASHBOARD_BASE } });
    }
    if (
      !pathname.startsWith(DASHBOARD_BASE) ||
      (request.method !== "GET" && request.method !== "HEAD")
    ) {
      return handler(request, info);
    }
    let relative: string;
    try {
      relative = normalize(decodeURIComponent(pathname.slice(DASHBOARD_BASE.length)));
    } catch {
      return Response.json({ error: "Malformed path" }, { status: 400 });
    }
    const target = resolve(root, relative);
    const inside = target === root || target.startsWith(root + sep);
    if (inside && relative !== "." && relative !== "") {
      const immutable = relative.startsWith(`assets${sep}`);
      const asset = await fileResponse(
        target,
        immutable ? "public, max-age=31536000, immutable" : "no-cache",
      );
      if (asset) return asset;
      if (immutable) return Response.json({ error: "Not found", path: pathname }, { status: 404 });
    }
    const page = await fileResponse(index, "no-cache");
    return (
      page ??
      Response.json(
        {
          error: "The dashboard is not built",
          hint: "run `pnpm build` (apps/dashboard/dist), or `pnpm dev` for the dev server",
        },
        { status: 404 },
      )
    );
  };
}
