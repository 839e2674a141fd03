/**
 * Comparison of secrets (tokens, password hashes) that leaks neither where they differ nor how
 * long they are. Web Crypto only, so the router that uses it stays edge-safe.
 */

/** Compares two byte strings in time that depends only on their lengths (equal lengths: constant). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * True when two secrets are equal. Both are hashed with SHA-256 first, so the comparison always
 * runs over 32 bytes: its time says nothing about the expected secret's length or content.
 */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256(presented), sha256(expected)]);
  return constantTimeEqual(a, b);
}
