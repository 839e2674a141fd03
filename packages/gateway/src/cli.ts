import process from "node:process";
import { redact } from "@hotpath/redis";
import { parseCliArgs, CLI_USAGE } from "./cli-options.ts";
import { GatewayError } from "./errors.ts";
import { startGateway } from "./gateway.ts";

/** Entry point of `hotpath-gateway`: parses argv/env, starts the gateway, closes it on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const command = parseCliArgs(process.argv.slice(2), process.env);
  if (command.kind === "help") {
    process.stdout.write(`${CLI_USAGE}\n`);
    return;
  }
  const { options } = command;
  const gateway = await startGateway(options);
  const generated = options.token === undefined && options.tokens === undefined;
  const target = options.redisUrl === undefined ? "token map" : redact(options.redisUrl);
  process.stdout.write(`hotpath-gateway listening on ${gateway.url} -> ${target}\n`);
  if (generated) process.stdout.write(`token (generated): ${gateway.token}\n`);
  const stop = (signal: string) => {
    process.stderr.write(`hotpath-gateway: ${signal}, closing\n`);
    gateway.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`hotpath-gateway: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hotpath-gateway: ${error instanceof GatewayError ? error.message : String(error)}\n`,
  );
  process.exit(error instanceof GatewayError ? 2 : 1);
});
