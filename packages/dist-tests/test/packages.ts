import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Root of the repository. */
export const ROOT = join(import.meta.dirname, "..", "..", "..");

/** A publishable workspace package (every one under packages/ not marked private). */
export interface LibraryPackage {
  name: string;
  dir: string;
}

/** The packages other teams install: every `packages/*` whose manifest is not private. */
export function libraryPackages(): LibraryPackage[] {
  return readdirSync(join(ROOT, "packages"))
    .map((entry) => join(ROOT, "packages", entry))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name: string;
        private?: boolean;
      },
    }))
    .filter(({ manifest }) => manifest.private !== true)
    .map(({ dir, manifest }) => ({ name: manifest.name, dir }));
}

/**
 * `pnpm pack`s `pkg` into `destination` (workspace: ranges become versions, as on publish) and
 * returns the tarball's path.
 * @throws Error when the package has no dist/ (run `pnpm build`; turbo does it before this test).
 */
export async function packPackage(pkg: LibraryPackage, destination: string): Promise<string> {
  if (!existsSync(join(pkg.dir, "dist")))
    throw new Error(`${pkg.name} has no dist/: run \`pnpm build\` first`);
  const { stdout } = await run("pnpm", ["pack", "--pack-destination", destination], {
    cwd: pkg.dir,
    timeout: 120_000,
  });
  const tarball = stdout
    .trim()
    .split("\n")
    .map((line) => line.trim())
    .findLast((line) => line.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`pnpm pack of ${pkg.name} named no tarball`);
  return tarball;
}

/** Runs a command; resolves its output, or rejects with its output in the message. */
export async function runTool(
  command: string,
  args: string[],
  options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv },
): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 32 * 1024 * 1024,
    });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(" ")} failed: ${failure.message}\n${failure.stdout ?? ""}${failure.stderr ?? ""}`,
      { cause: error },
    );
  }
}
