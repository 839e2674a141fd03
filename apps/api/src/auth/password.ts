import { constantTimeEqual } from "./secrets.ts";

/** Hashes and verifies passwords. Injected into the router through the deps. */
export interface PasswordHasher {
  /** Returns an encoded hash `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`. */
  hash(password: string): Promise<string>;
  /** True when `password` matches `encoded`; false for any malformed hash. */
  verify(password: string, encoded: string): Promise<boolean>;
}

/** Options of {@link createPbkdf2Hasher}. */
export interface Pbkdf2Options {
  /** Iterations of new hashes (verification uses the stored count). @default 600000 */
  iterations?: number;
}

const ALGORITHM = "pbkdf2-sha256";
const KEY_BITS = 256;
const SALT_BYTES = 16;

/**
 * A password KDF on Web Crypto PBKDF2-HMAC-SHA256 (available on Node, Deno, Bun and edge
 * runtimes, so the router needs no `node:crypto`). The default of 600,000 iterations follows
 * OWASP's 2023 guidance for PBKDF2-SHA256; the count is stored in each hash so it can be raised.
 */
export function createPbkdf2Hasher(options: Pbkdf2Options = {}): PasswordHasher {
  const iterations = options.iterations ?? 600_000;
  return {
    async hash(password) {
      const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
      const derived = await derive(password, salt, iterations);
      return [ALGORITHM, String(iterations), toBase64(salt), toBase64(derived)].join("$");
    },
    async verify(password, encoded) {
      const [algorithm, rounds, saltText, hashText] = encoded.split("$");
      const count = Number(rounds);
      if (
        algorithm !== ALGORITHM ||
        !Number.isSafeInteger(count) ||
        count < 1 ||
        !saltText ||
        !hashText
      )
        return false;
      const expected = fromBase64(hashText);
      const actual = await derive(password, fromBase64(saltText), count);
      return constantTimeEqual(actual, expected);
    },
  };
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    KEY_BITS,
  );
  return new Uint8Array(bits);
}

function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  try {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  } catch {
    return new Uint8Array(0);
  }
}
