/**
 * Commands a gateway token does not get by default: what Upstash itself does not offer and what
 * turns a data token into control of the Redis server (configuration, persistence, replication,
 * modules, users, shutdown, moving data between databases or servers).
 */
const ADMIN_COMMANDS: ReadonlySet<string> = new Set([
  "config",
  "debug",
  "module",
  "shutdown",
  "save",
  "bgsave",
  "bgrewriteaof",
  "acl",
  "replicaof",
  "slaveof",
  "failover",
  "migrate",
  "swapdb",
]);

// Commands whose read forms pass and whose other forms are admin: CLUSTER subcommands that only
// read (every other form changes the cluster); MEMORY forms that only measure (USAGE is what the
// API's memory per key area needs; PURGE makes the allocator release memory on the server).
const CLUSTER_READS: ReadonlySet<string> = new Set([
  "info",
  "nodes",
  "slots",
  "shards",
  "myid",
  "myshardid",
  "keyslot",
  "countkeysinslot",
  "getkeysinslot",
  "links",
  "replicas",
  "slaves",
  "count-failure-reports",
  "help",
]);

const MEMORY_READS: ReadonlySet<string> = new Set([
  "usage",
  "stats",
  "doctor",
  "malloc-stats",
  "help",
]);

const READ_FORMS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ["cluster", CLUSTER_READS],
  ["memory", MEMORY_READS],
]);

/**
 * The name of the admin command `command` is (e.g. `CONFIG`, `CLUSTER RESET` or `MEMORY PURGE`), or undefined
 * for every other command (malformed ones are left to the command checks that follow).
 */
export function adminCommandName(command: unknown): string | undefined {
  if (!Array.isArray(command) || typeof command[0] !== "string") return undefined;
  const name = command[0].toLowerCase();
  if (ADMIN_COMMANDS.has(name)) return name.toUpperCase();
  const reads = READ_FORMS.get(name);
  if (reads === undefined) return undefined;
  const sub = typeof command[1] === "string" ? command[1].toLowerCase() : "";
  return reads.has(sub) ? undefined : `${name.toUpperCase()} ${sub.toUpperCase()}`.trim();
}

/** The first admin command among `commands`, if any. */
export function firstAdminCommand(commands: readonly unknown[]): string | undefined {
  for (const command of commands) {
    const name = adminCommandName(command);
    if (name !== undefined) return name;
  }
  return undefined;
}
