import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { withDashboardAssets } from "../src/http/dashboard-assets.ts";

const dist = mkdtempSync(join(tmpdir(), "hotpath-dist-"));
mkdirSync(join(dist, "assets"));
writeFileSync(join(dist, "index.html"), "<!doctype html><title>Hotpath</title>");
writeFileSync(join(dist, "assets", "app-1234.js"), "console.log(1)");
writeFileSync(join(dist, "favicon.svg"), "<svg/>");
const secret = mkdtempSync(join(tmpdir(), "hotpath-secret-"));
writeFileSync(join(secret, "secret.txt"), "do not serve");
afterAll(() => {
  rmSync(dist, { recursive: true, force: true });
  rmSync(secret, { recursive: true, force: true });
});

const api = (request: Request) =>
  Promise.resolve(Response.json({ api: new URL(request.url).pathname }));
const serve = withDashboardAssets(api, dist);
const get = (path: string) => serve(new Request(`http://api.test${path}`));

describe("dashboard assets", () => {
  it("redirects /dashboard to /dashboard/ and serves index.html there without caching", async () => {
    const redirect = await get("/dashboard");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("/dashboard/");
    const page = await get("/dashboard/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toContain("<title>Hotpath</title>");
  });

  it("serves hashed assets as immutable with their content type, and 404s a missing asset", async () => {
    const asset = await get("/dashboard/assets/app-1234.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await asset.text()).toBe("console.log(1)");
    expect((await get("/dashboard/assets/missing.js")).status).toBe(404);
    expect((await get("/dashboard/favicon.svg")).headers.get("content-type")).toBe("image/svg+xml");
  });

  it("answers index.html for client-side routes", async () => {
    const page = await get("/dashboard/some/view");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("Hotpath");
  });

  it("never serves a file outside the build folder", async () => {
    const folder = secret.split("/").pop() ?? "";
    // Encoded slashes survive URL parsing and only become ".." segments after decoding.
    for (const path of [
      `/dashboard/..%2f${folder}%2fsecret.txt`,
      `/dashboard/assets%2f..%2f..%2f${folder}%2fsecret.txt`,
    ]) {
      const response = await get(path);
      expect(await response.text()).not.toContain("do not serve");
    }
  });

  it("passes everything else to the API", async () => {
    expect(await (await get("/trpc/health.check")).json()).toEqual({ api: "/trpc/health.check" });
    const post = await serve(new Request("http://api.test/dashboard/", { method: "POST" }));
    expect(await post.json()).toEqual({ api: "/dashboard/" });
  });

  it("says how to build the dashboard when it is not built", async () => {
    const unbuilt = withDashboardAssets(api, join(dist, "nothing-here"));
    const response = await unbuilt(new Request("http://api.test/dashboard/"));
    expect(response.status).toBe(404);
    expect(((await response.json()) as { hint: string }).hint).toContain("pnpm build");
  });
});
