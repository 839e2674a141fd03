import { parseArgs } from "node:util";
import { clusterUrlOfNodes } from "@hotpath/redis/internal";
import { z } from "zod";
import { QStashServerError } from "./errors.ts";
import type { QStashServerOptions } from "./options.ts";

/** Usage text of the `hotpath-qstash` CLI. */
export const CLI_USAGE = `Usage: hotpath-qstash --redis redis://127.0.0.1:6379 [--port 8181] [--host 127.0.0.1]
                      [--tenant <token>,<currentKey>,<nextKey>]... [--no-dev-credentials]
                      [--allow-host <host>]... [--max-body-bytes N] [--prefix <redis key prefix>]

Options (environment variable in brackets):
  --redis <url>              Redis that holds the messages and runs BullMQ [REDIS_URL]; a cluster
                             as redis+cluster://h1:p1,h2:p2 [or REDIS_CLUSTER_NODES=h1:p1,h2:p2]
  --port <n>                 port to listen on, 0 = any free port [PORT] (default 8181)
  --host <address>           address to bind [HOST] (default 127.0.0.1)
  --tenant <t>,<cur>,<next>  one more token with its current and next signing keys, an isolated
                             tenant (repeatable) [QSTASH_TENANTS, space-separated]
  --no-dev-credentials       refuse the dev token (by default it is accepted, with the dev keys)
  --allow-host <host>        a host besides loopback that deliveries may go to; *.example.com
                             for subdomains (repeatable) [QSTASH_ALLOWED_HOSTS, comma-separated]
  --max-body-bytes <n>       largest request body, 413 above (default 1048576)
  --prefix <prefix>          prefix of every Redis key (default hotpath-qstash; hash-tagged per
                             tenant and per queue on a cluster)
  --concurrency <n>          deliveries in flight per process (default 50)
  --help                     this text`;

/** `REDIS_URL`, else the cluster of `REDIS_CLUSTER_NODES` (`h1:p1,h2:p2`), else undefined. */
function redisOfEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.REDIS_URL) return env.REDIS_URL;
  return env.REDIS_CLUSTER_NODES ? clusterUrlOfNodes(env.REDIS_CLUSTER_NODES) : undefined;
}

const integer = (flag: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `${flag} must be a whole number` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `${flag} must be between ${min} and ${max}` });

const tenant = z
  .string()
  .regex(/^[^,\s]+,[^,\s]+,[^,\s]+$/, {
    message: "--tenant must look like <token>,<currentKey>,<nextKey>",
  })
  .transform((value) => {
    const [token, currentSigningKey, nextSigningKey] = value.split(",") as [string, string, string];
    return { token, currentSigningKey, nextSigningKey };
  });

const cliSchema = z.object({
  redis: z.string().optional(),
  port: integer("--port", 0, 65_535).optional(),
  host: z.string().min(1, { message: "--host must not be empty" }).optional(),
  tenant: z.array(tenant).optional(),
  "dev-credentials": z.boolean().optional(),
  "allow-host": z
    .array(z.string().min(1, { message: "--allow-host must not be empty" }))
    .optional(),
  "max-body-bytes": integer("--max-body-bytes", 1, 1024 ** 3).optional(),
  prefix: z.string().optional(),
  concurrency: integer("--concurrency", 1, 10_000).optional(),
  help: z.boolean().optional(),
});

/** What the CLI should do: print the usage, or start a server with these options. */
export type CliCommand = { kind: "help" } | { kind: "start"; options: QStashServerOptions };

/**
 * Turns argv (without `node script`) and an environment into server options; flags win over the
 * environment. Option checks themselves happen in {@link startQStashServer}.
 * @throws QStashServerError QSTASH_CONFIG naming the flag at fault.
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
        tenant: { type: "string", multiple: true },
        "dev-credentials": { type: "boolean" },
        "allow-host": { type: "string", multiple: true },
        "max-body-bytes": { type: "string" },
        prefix: { type: "string" },
        concurrency: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowNegative: true,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new QStashServerError("QSTASH_CONFIG", `${(error as Error).message}\n\n${CLI_USAGE}`, {
      cause: error,
    });
  }
  const envList = (value: string | undefined, separator: RegExp) =>
    value ? value.split(separator).filter(Boolean) : undefined;
  const parsed = cliSchema.safeParse({
    ...values,
    redis: values.redis ?? redisOfEnv(env),
    port: values.port ?? (env.PORT || undefined),
    host: values.host ?? (env.HOST || undefined),
    tenant: values.tenant ?? envList(env.QSTASH_TENANTS, /\s+/),
    "allow-host": values["allow-host"] ?? envList(env.QSTASH_ALLOWED_HOSTS, /,/),
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.message}`);
    throw new QStashServerError(
      "QSTASH_CONFIG",
      `Invalid arguments:\n${lines.join("\n")}\n\n${CLI_USAGE}`,
      { cause: parsed.error },
    );
  }
  const flags = parsed.data;
  if (flags.help) return { kind: "help" };
  if (flags.redis === undefined) {
    throw new QStashServerError(
      "QSTASH_CONFIG",
      `Missing --redis (or REDIS_URL, or REDIS_CLUSTER_NODES)\n\n${CLI_USAGE}`,
    );
  }
  return {
    kind: "start",
    options: {
      redisUrl: flags.redis,
      port: flags.port,
      host: flags.host,
      tenants: flags.tenant,
      devCredentials: flags["dev-credentials"],
      allowedHosts: flags["allow-host"],
      maxBodyBytes: flags["max-body-bytes"],
      prefix: flags.prefix,
      deliveryConcurrency: flags.concurrency,
    },
  };
}
