import { isIP } from "node:net";
import { badRequest, QStashServerError } from "./errors.ts";

/** True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return (
    bare === "localhost" ||
    bare.endsWith(".localhost") ||
    bare === "::1" ||
    (isIP(bare) === 4 && bare.startsWith("127.")) ||
    bare === "::ffff:127.0.0.1"
  );
}

/** A publish destination: a URL, or the name of a URL group. */
export type Destination = { kind: "url"; url: string } | { kind: "urlGroup"; name: string };

/** Which hosts deliveries may reach: loopback always, others only when listed (no open relay). */
export class DestinationPolicy {
  readonly #allowed: readonly string[];

  /** `allowedHosts`: exact host names, or `*.example.com` for its subdomains. */
  constructor(allowedHosts: readonly string[]) {
    this.#allowed = allowedHosts.map((host) => host.toLowerCase());
  }

  /** True when a delivery to `host` is allowed. */
  allows(host: string): boolean {
    const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
    if (isLoopbackHost(bare)) return true;
    return this.#allowed.some((entry) =>
      entry.startsWith("*.") ? bare.endsWith(entry.slice(1)) : entry === bare,
    );
  }

  /**
   * Checks an http(s) URL and its host.
   * @throws QStashServerError 400 naming `field` for a malformed URL or a host that is not allowed.
   */
  checkUrl(url: string, field: string): string {
    if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
      throw badRequest(`${field}: "${url}" is not an http(s) URL`);
    }
    const host = new URL(url).hostname;
    if (!this.allows(host)) {
      throw badRequest(
        `${field}: host ${host} is not allowed; this server delivers to loopback and to the hosts of --allow-host only`,
      );
    }
    return url;
  }

  /**
   * Reads the destination from the raw path tail (plus query), as the SDK sends it unencoded.
   * @throws QStashServerError 400 for a bad URL or URL-group name, 501 for the LLM API.
   */
  parse(raw: string): Destination {
    if (raw.length === 0) throw badRequest("destination: missing after the path prefix");
    if (/^https?:\/\//i.test(raw)) return { kind: "url", url: this.checkUrl(raw, "destination") };
    if (raw === "api/llm" || raw.startsWith("api/")) {
      throw new QStashServerError(
        "QSTASH_NOT_IMPLEMENTED",
        "destination api/llm: the LLM API needs Upstash's cloud and is not provided by this server",
      );
    }
    if (!/^[A-Za-z0-9_.-]{1,200}$/.test(raw)) {
      throw badRequest(
        `destination: "${raw.slice(0, 100)}" is neither an http(s) URL nor a URL-group name (letters, digits, _ . -)`,
      );
    }
    return { kind: "urlGroup", name: raw };
  }
}
