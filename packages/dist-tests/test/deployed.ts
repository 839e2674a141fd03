import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, runTool } from "./packages.ts";

/** Development tools (devDependencies of the apps, the servers and the workspace) never deployed. */
export const DEV_TOOLS = [
  "tsx",
  "typescript",
  "vitest",
  "vite",
  "tsdown",
  "esbuild",
  "@types/node",
  "autocannon",
  "@hotpath/testing",
];

/** A workspace package deployed into a folder of its own. */
export interface Deployed {
  dir: string;
  seconds: number;
  /** Bytes in the folder (symlinks counted as links: the folder links nothing outside itself). */
  bytes: number;
}

/** Bytes under `dir`, symlinks counted as links. */
async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await sizeOf(path) : (await lstat(path)).size;
  }
  return total;
}

/**
 * `pnpm --filter <name> deploy --prod <dir>`: the package's files (its `files`), and its
 * production dependencies installed from the workspace lockfile, our own packages copied in with
 * their dist/ (pnpm 12 needs neither `--legacy` nor `inject-workspace-packages` for that).
 * Needs `pnpm build` first (turbo builds this workspace's dependencies before its tests).
 */
export async function deployPackage(name: string, dir: string): Promise<Deployed> {
  const started = performance.now();
  await runTool("pnpm", ["--filter", name, "deploy", "--prod", dir], {
    cwd: ROOT,
    timeoutMs: 300_000,
  });
  return { dir, seconds: (performance.now() - started) / 1000, bytes: await sizeOf(dir) };
}

/** The packages in a deployed `node_modules` (`@scope/name`) and its `.pnpm` store entries. */
export async function installedNames(dir: string): Promise<{ linked: string[]; store: string[] }> {
  const modules = join(dir, "node_modules");
  const linked: string[] = [];
  for (const entry of await readdir(modules)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@"))
      for (const scoped of await readdir(join(modules, entry))) linked.push(`${entry}/${scoped}`);
    else linked.push(entry);
  }
  return { linked, store: await readdir(join(modules, ".pnpm")) };
}

/** The {@link DEV_TOOLS} (and `extra`) found in a deployed folder; empty when it is clean. */
export async function devToolsIn(dir: string, extra: string[] = []): Promise<string[]> {
  const { linked, store } = await installedNames(dir);
  return [...DEV_TOOLS, ...extra].filter(
    (tool) =>
      linked.includes(tool) ||
      store.some((entry) => entry.startsWith(`${tool.replace("/", "+")}@`)),
  );
}
