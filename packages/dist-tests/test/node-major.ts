import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT, runTool } from "./packages.ts";

/** Major version of the Node running the tests. */
export const CURRENT_NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/**
 * The second Node major the packages are tested on, next to the machine's: 22 (the next LTS after
 * the declared floor `>=20.19`), or 20 when the machine itself runs 22.
 */
export const SECOND_NODE_MAJOR = CURRENT_NODE_MAJOR === 22 ? 20 : 22;

/** Where the binaries are kept between runs (inside the repository's ignored node_modules). */
const CACHE_DIR = join(ROOT, "node_modules", ".cache", "hotpath-node");

/**
 * Path of a Node binary of `major`, from the `node` npm package (the registry ships each release's
 * binary as `node-<os>-<arch>`). Installed once into node_modules/.cache/hotpath-node/<major>
 * (about 7 s and 185 MB here), then reused; the install goes to a temporary folder renamed into
 * place, so an interrupted one leaves nothing half-written behind.
 * @throws Error when npm cannot install it (registry unreachable).
 */
export async function nodeOfMajor(major: number): Promise<string> {
  const dir = join(CACHE_DIR, String(major));
  const binary = join(dir, "node_modules", "node", "bin", "node");
  if (existsSync(binary)) return binary;
  await mkdir(CACHE_DIR, { recursive: true });
  const staging = await mkdtemp(join(CACHE_DIR, `.${major}-`));
  try {
    // The staging folder is the install's root through its package.json, not `--prefix`: a
    // prefix also moves npm's global config to <prefix>/etc/npmrc, which drops the machine's own
    // settings there (its registry CA `cafile`, say: the install then failed with
    // SELF_SIGNED_CERT_IN_CHAIN on a machine whose registry goes through a TLS proxy).
    await writeFile(join(staging, "package.json"), '{ "private": true }\n');
    await runTool(
      "npm",
      ["install", "--no-audit", "--no-fund", "--loglevel=error", `node@${major}`],
      { cwd: staging, timeoutMs: 300_000 },
    );
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const version = (await runTool(binary, ["--version"], { cwd: dir })).trim();
  if (!version.startsWith(`v${major}.`))
    throw new Error(`node@${major} from npm reports ${version}`);
  return binary;
}
