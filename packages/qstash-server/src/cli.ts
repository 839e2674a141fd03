import process from "node:process";
import { redact } from "@hotpath/redis";
import { CLI_USAGE, parseCliArgs } from "./cli-options.ts";
import { QStashServerError } from "./errors.ts";
import { startQStashServer } from "./server.ts";

/** Entry point of `hotpath-qstash`: parses argv/env, starts the server, closes it on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const command = parseCliArgs(process.argv.slice(2), process.env);
  if (command.kind === "help") {
    process.stdout.write(`${CLI_USAGE}\n`);
    return;
  }
  const server = await startQStashServer(command.options);
  process.stdout.write(
    `hotpath-qstash running at ${server.url} -> ${redact(command.options.redisUrl)} (pid ${process.pid})\n`,
  );
  for (const tenant of server.tenants) {
    process.stdout.write(
      `  token ${tenant.token}  signing keys current ${tenant.currentSigningKey} next ${tenant.nextSigningKey}\n`,
    );
  }
  const stop = (signal: string) => {
    process.stderr.write(`hotpath-qstash: ${signal}, closing\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`hotpath-qstash: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `hotpath-qstash: ${error instanceof QStashServerError ? error.message : String(error)}\n`,
  );
  process.exit(error instanceof QStashServerError ? 2 : 1);
});
