import { parseArgs } from "node:util";
import { clusterUrlOfNodes } from "@hotpath/redis/internal";
import { z } from "zod";
import { GatewayError } from "./errors.ts";
import type { GatewayOptions } from "./options.ts";

/** Usage text of the `hotpath-gateway` CLI. */
export const CLI_USAGE = `Usage: hotpath-gateway --redis redis://127.0.0.1:6379 [--port 8079] [--host 127.0.0.1] [--token <token>]
                       [--token-map <token>=redis://host:port/db]... [--max-body-bytes N] [--timeout-ms N]
                       [--max-subscriptions-per-token N] [--allow-admin-commands]

Options (environment variable in brackets):
  --redis <url>           Redis behind --token [REDIS_URL]; a cluster as redis+cluster://h1:p1,h2:p2
                          [or REDIS_CLUSTER_NODES=h1:p1,h2:p2]
  --port <n>              port to listen on, 0 = any free port [PORT] (default 8079)
  --host <address>        address to bind [HOST] (default 127.0.0.1; others need an explicit token)
  --token <token>         bearer token for --redis [HOTPATH_GATEWAY_TOKEN] (default: random, printed)
  --token-map <t>=<url>   one more token with its own Redis URL (repeatable)
  --max-body-bytes <n>    largest request body, 413 above (default 1048576)
  --timeout-ms <n>        per-command Redis timeout (default 5000)
  --max-subscriptions-per-token <n>
                          open SSE subscriptions per token, 429 above (default 100)
  --allow-admin-commands  pass on CONFIG, DEBUG, MODULE, SHUTDOWN, SAVE, BGSAVE, BGREWRITEAOF, ACL,
                          REPLICAOF, SLAVEOF, FAILOVER, MIGRATE, SWAPDB, CLUSTER write forms and
                          MEMORY PURGE
                          (refused by default: they give a token control of the server)
  --help                  this text`;

const integer = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${flag} must be a whole number` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `${flag} must be between ${min} and ${max}` });

const cliSchema = z.object({
  redis: z.string().optional(),
  port: integer("--port", 0, 65_535).optional(),
  host: z.string().min(1, { message: "--host must not be empty" }).optional(),
  token: z.string().optional(),
  "token-map": z
    .array(
      z.string().regex(/^[^=]+=rediss?(\+cluster)?:\/\/\S+$/, {
        message:
          "--token-map must look like <token>=redis://host:port/db (or <token>=redis+cluster://host:port,host:port)",
      }),
    )
    .optional(),
  "max-body-bytes": integer("--max-body-bytes", 1, 1024 ** 3).optional(),
  "timeout-ms": integer("--timeout-ms", 1, 600_000).optional(),
  "max-subscriptions-per-token": integer("--max-subscriptions-per-token", 1, 1_000_000).optional(),
  "allow-admin-commands": z.boolean().optional(),
  help: z.boolean().optional(),
});

/** `REDIS_URL`, else the cluster of `REDIS_CLUSTER_NODES` (`h1:p1,h2:p2`), else undefined. */
function redisOfEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.REDIS_URL) return env.REDIS_URL;
  return env.REDIS_CLUSTER_NODES ? clusterUrlOfNodes(env.REDIS_CLUSTER_NODES) : undefined;
}

/** What the CLI should do: print the usage, or start a gateway with these options. */
export type CliCommand = { kind: "help" } | { kind: "start"; options: GatewayOptions };

/**
 * Turns argv (without `node script`) and an environment into gateway options; flags win over
 * the environment. Option checks themselves happen in {@link startGateway}.
 * @throws GatewayError GATEWAY_CONFIG naming the flag at fault.
 */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        redis: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        token: { type: "string" },
        "token-map": { type: "string", multiple: true },
        "max-body-bytes": { type: "string" },
        "timeout-ms": { type: "string" },
        "max-subscriptions-per-token": { type: "string" },
        "allow-admin-commands": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new GatewayError("GATEWAY_CONFIG", `${(error as Error).message}\n\n${CLI_USAGE}`, {
      cause: error,
    });
  }
  const parsed = cliSchema.safeParse({
    ...values,
    redis: values.redis ?? redisOfEnv(env),
    port: values.port ?? (env.PORT || undefined),
    host: values.host ?? (env.HOST || undefined),
    token: values.token ?? (env.HOTPATH_GATEWAY_TOKEN || undefined),
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.message}`);
    throw new GatewayError(
      "GATEWAY_CONFIG",
      `Invalid arguments:\n${lines.join("\n")}\n\n${CLI_USAGE}`,
      { cause: parsed.error },
    );
  }
  const flags = parsed.data;
  if (flags.help) return { kind: "help" };
  if (flags.redis === undefined && flags["token-map"] === undefined) {
    throw new GatewayError(
      "GATEWAY_CONFIG",
      `Missing --redis (or REDIS_URL, or --token-map)\n\n${CLI_USAGE}`,
    );
  }
  const tokens: Record<string, string> = {};
  for (const entry of flags["token-map"] ?? []) {
    const at = entry.indexOf("=");
    tokens[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return {
    kind: "start",
    options: {
      redisUrl: flags.redis,
      token: flags.token,
      tokens: flags["token-map"] === undefined ? undefined : tokens,
      port: flags.port,
      host: flags.host,
      maxBodyBytes: flags["max-body-bytes"],
      commandTimeoutMs: flags["timeout-ms"],
      maxSubscriptionsPerToken: flags["max-subscriptions-per-token"],
      allowAdminCommands: flags["allow-admin-commands"],
    },
  };
}
