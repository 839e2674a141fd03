import { spawn, type ChildProcess } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { builtinModules } from "node:module";
import { build } from "esbuild";

// The `workerd` package (CommonJS, no types): the path of the binary that its platform package
// (@cloudflare/workerd-linux-64 here) ships, and the newest compatibility date it supports.
const workerdPackage = createRequire(import.meta.url)("workerd") as {
  default: string;
  compatibilityDate: string;
};

/** The bundled Worker: one ES module file. */
export interface WorkerBundle {
  /** Absolute path of the bundle. */
  file: string;
  /** Its size in bytes (unminified). */
  bytes: number;
  /** Its size gzipped, as a deployment would upload it. */
  gzipBytes: number;
  /** The files esbuild put in it, relative to the working directory. */
  inputs: string[];
}

// With Node built-ins, CommonJS code (node-postgres) calls require("events"): in an ES module the
// bundle's require comes from node:module, which workerd provides under nodejs_compat.
const NODE_REQUIRE_BANNER = `import { createRequire as __hotpathCreateRequire } from "node:module";
const require = __hotpathCreateRequire(import.meta.url);`;

/**
 * Bundles `entry` into `outDir/worker.js` with esbuild as a Workers bundler does: platform neutral,
 * ES module, the "workerd" / "worker" / "browser" export conditions (so packages pick their edge
 * builds), dependencies resolved to their BUILT files (no `@hotpath/source` condition here).
 * Without `node`, a Node built-in anywhere in the graph fails the build; with it, built-ins and
 * `cloudflare:*` stay imports for workerd's nodejs_compat to serve.
 */
export async function bundleWorker(
  entry: string,
  outDir: string,
  options: { node?: boolean } = {},
): Promise<WorkerBundle> {
  const file = join(outDir, "worker.js");
  const runtimeModules = options.node
    ? {
        external: ["node:*", "cloudflare:*", ...builtinModules],
        banner: { js: NODE_REQUIRE_BANNER },
      }
    : {};
  const result = await build({
    ...runtimeModules,
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2023",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    metafile: true,
    logLevel: "silent",
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (output === undefined) throw new Error(`esbuild wrote no bundle for ${entry}`);
  return {
    file,
    bytes: output.bytes,
    gzipBytes: gzipSync(await readFile(file)).length,
    inputs: Object.keys(result.metafile.inputs),
  };
}

/** What {@link writeWorkerdConfig} writes. */
export interface WorkerdConfigOptions {
  /** Directory holding the bundle (`worker.js`); the config is written next to it. */
  dir: string;
  /** Address of the HTTP socket, e.g. `127.0.0.1:8787`. */
  address: string;
  /** The module's named export that handles requests. */
  entrypoint: string;
  /** Text bindings: `env.<name>` in the Worker. */
  bindings: Record<string, string>;
  /** Compatibility flags, e.g. `no_nodejs_compat` (Node APIs are on by default at this date). */
  compatibilityFlags?: string[];
}

const capnpText = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/**
 * Writes `dir/config.capnp`: one module Worker on the bundle with the package's compatibility date,
 * its text bindings, and outbound network limited to local addresses (loopback: the gateway and
 * the QStash server), which workerd refuses unless a `network` service allows them.
 * @returns The config file's path.
 */
export async function writeWorkerdConfig(options: WorkerdConfigOptions): Promise<string> {
  const bindings = Object.entries(options.bindings)
    .map(([name, value]) => `    (name = ${capnpText(name)}, text = ${capnpText(value)}),`)
    .join("\n");
  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "hotpath", worker = .hotpathWorker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [
    (name = "http", address = ${capnpText(options.address)}, http = (),
     service = (name = "hotpath", entrypoint = ${capnpText(options.entrypoint)})),
  ],
);

const hotpathWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${capnpText(workerdPackage.compatibilityDate)},
  compatibilityFlags = [${(options.compatibilityFlags ?? []).map(capnpText).join(", ")}],
  bindings = [
${bindings}
  ],
  globalOutbound = "loopback",
);
`;
  const file = join(options.dir, "config.capnp");
  await writeFile(file, config);
  return file;
}

/** A running `workerd serve`. */
export interface RunningWorkerd {
  /** Base URL of the Worker, e.g. `http://127.0.0.1:8787`. */
  readonly url: string;
  /** What workerd printed so far (stdout and stderr). */
  output(): string;
  /** Stops it (SIGTERM, SIGKILL after 5 s) and waits for its exit. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Runs `workerd serve <config>` and resolves once `GET <url><readyPath>` answers 200 (polled until
 * `timeoutMs`). Rejects with workerd's output when it exits or never gets ready.
 */
export async function startWorkerd(
  config: string,
  url: string,
  options: { readyPath: string; timeoutMs?: number },
): Promise<RunningWorkerd> {
  const child = spawn(workerdPackage.default, ["serve", config], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  child.stdout?.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const running: RunningWorkerd = {
    url,
    output: () => printed,
    stop: () => stopChild(child, exited),
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`workerd exited (${child.exitCode ?? child.signalCode}):\n${printed}`);
    }
    try {
      const response = await fetch(`${url}${options.readyPath}`, {
        signal: AbortSignal.timeout(2000),
      });
      last = `HTTP ${response.status}: ${await response.text()}`;
      if (response.ok) return running;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await running.stop();
  throw new Error(`workerd was not ready at ${url}${options.readyPath} (${last}):\n${printed}`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(killer);
}
