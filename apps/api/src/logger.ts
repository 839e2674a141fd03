/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger: a message plus fields, one JSON object per line. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel | "silent", number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
  silent: 100,
};

/** Options of {@link createJsonLogger}. */
export interface JsonLoggerOptions {
  /** Lowest level written. @default "info" */
  level?: LogLevel | "silent";
  /** Where each line goes. @default console.log (stdout) */
  write?: (line: string) => void;
  /** Fields added to every line (service name, instance id…). */
  base?: Record<string, unknown>;
}

/** A logger writing one JSON object per line (`{"level","time","msg",…fields}`). */
export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => console.log(line));
  const base = options.base ?? {};
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < threshold) return;
    write(
      JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...base, ...fields }),
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = createJsonLogger({ level: "silent" });

/** A logger that keeps lines in memory (tests read `lines`). */
export function createMemoryLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({
    level: "debug",
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
  });
  return Object.assign(logger, { lines });
}
