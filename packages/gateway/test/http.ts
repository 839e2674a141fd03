import { testTargets } from "@hotpath/testing";

/** One raw HTTP answer of the gateway. */
export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (throws in the test if it is not JSON). */
  json: unknown;
}

/** Options of {@link post}. */
export interface PostOptions {
  /** Gateway base URL (default: the shared test gateway). */
  url?: string;
  /** Bearer token (default: the shared gateway's); `null` sends no Authorization header. */
  token?: string | null;
  /** Send `Upstash-Encoding: base64` (default true, as the SDK does). */
  base64?: boolean;
  method?: string;
  headers?: Record<string, string>;
}

/** Sends a raw request (body: a value to JSON-encode, or a string sent as is). */
export async function post(
  path: string,
  body: unknown,
  options: PostOptions = {},
): Promise<RawAnswer> {
  const { gatewayUrl, gatewayToken } = testTargets();
  const token = options.token === undefined ? gatewayToken : options.token;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    ...options.headers,
  };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (options.base64 ?? true) headers["upstash-encoding"] = "base64";
  const method = options.method ?? "POST";
  const res = await fetch(`${options.url ?? gatewayUrl}${path}`, {
    method,
    headers,
    body:
      method === "GET" || method === "HEAD"
        ? undefined
        : typeof body === "string"
          ? body
          : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new Error(
      `gateway answered ${res.status} with a non-JSON body: ${JSON.stringify(text.slice(0, 200))}`,
    );
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** base64 of a UTF-8 string (what the gateway sends for every string in base64 mode). */
export function b64(value: string | Uint8Array): string {
  return Buffer.from(value).toString("base64");
}
