import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { libraryPackages, packPackage, ROOT, runTool } from "./packages.ts";

/** The part of `attw --format json` this test reads. */
interface AttwReport {
  analysis: {
    entrypoints: Record<
      string,
      {
        subpath: string;
        resolutions: Partial<
          Record<string, { visibleProblems?: number[]; resolution?: { fileName: string } }>
        >;
      }
    >;
  };
}

const bin = (name: string) => join(ROOT, "node_modules", ".bin", name);
const packages = libraryPackages();

describe("published packages (the tarballs `pnpm pack` writes)", () => {
  let destination: string;
  const tarballs = new Map<string, string>();

  beforeAll(async () => {
    destination = await mkdtemp(join(tmpdir(), "hotpath-pack-"));
    for (const pkg of packages) tarballs.set(pkg.name, await packPackage(pkg, destination));
  });
  afterAll(async () => {
    if (destination) await rm(destination, { recursive: true, force: true });
  });

  it("are the seven libraries", () => {
    expect(packages.map((pkg) => pkg.name).sort()).toEqual([
      "@hotpath/cache",
      "@hotpath/config",
      "@hotpath/gateway",
      "@hotpath/jobs",
      "@hotpath/qstash-server",
      "@hotpath/ratelimit",
      "@hotpath/redis",
    ]);
  });

  it.each(packages.map((pkg) => pkg.name))("%s passes publint --strict", async (name) => {
    const output = await runTool(bin("publint"), ["run", tarballs.get(name) ?? "", "--strict"], {
      cwd: destination,
    });
    expect(output).toContain("All good!");
  });

  // ESM only: node10 and CommonJS `require` are out of scope (the packages declare Node >= 20.19).
  // attw exits non-zero on any problem under that profile (runTool rejects); on top of that every
  // subpath must resolve to declarations with no problem from Node's ESM resolver and a bundler.
  it.each(packages.map((pkg) => pkg.name))(
    "%s passes arethetypeswrong (esm-only profile)",
    async (name) => {
      const output = await runTool(
        bin("attw"),
        [tarballs.get(name) ?? "", "--profile", "esm-only", "--format", "json"],
        { cwd: destination },
      );
      const { analysis } = JSON.parse(output) as AttwReport;
      const entrypoints = Object.values(analysis.entrypoints);
      expect(entrypoints.length).toBeGreaterThan(1);
      for (const entrypoint of entrypoints) {
        for (const kind of ["node16-esm", "bundler"] as const) {
          const resolution = entrypoint.resolutions[kind];
          expect(resolution?.visibleProblems ?? [], `${entrypoint.subpath} ${kind}`).toEqual([]);
          expect(resolution?.resolution?.fileName, `${entrypoint.subpath} ${kind}`).toMatch(
            /\.(d\.ts|json)$/,
          );
        }
      }
    },
  );
});
