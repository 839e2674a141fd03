import { createHash, randomUUID } from "node:crypto";
import { SignJWT } from "jose";

/** How long a delivery signature stays valid, in seconds (QStash: 5 minutes). */
export const SIGNATURE_TTL_SECONDS = 300;

const importedKeys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key of a signing key (the UTF-8 bytes of the whole string), imported once. */
function hmacKey(signingKey: string): Promise<CryptoKey> {
  let key = importedKeys.get(signingKey);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(signingKey),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    importedKeys.set(signingKey, key);
  }
  return key;
}

/** base64url of SHA-256 of the raw body, with `=` padding kept (as QStash sends it). */
export function bodyHash(body: Uint8Array): string {
  const digest = createHash("sha256").update(body).digest("base64url");
  return digest.padEnd(Math.ceil(digest.length / 4) * 4, "=");
}

/**
 * Signs one delivery as QStash does: an HS256 JWT keyed with the UTF-8 bytes of the whole signing
 * key, claims `iss: "Upstash"`, `sub` = destination URL, `iat`, `nbf` = iat, `exp` = iat + 300,
 * a random `jti`, and `body` = {@link bodyHash} of the raw body.
 */
export async function signDelivery(input: {
  signingKey: string;
  url: string;
  body: Uint8Array;
  nowMs?: number;
}): Promise<string> {
  const iat = Math.floor((input.nowMs ?? Date.now()) / 1000);
  return new SignJWT({ aud: "", body: bodyHash(input.body) })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("Upstash")
    .setSubject(input.url)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + SIGNATURE_TTL_SECONDS)
    .setJti(`jwt_${randomUUID().replaceAll("-", "")}`)
    .sign(await hmacKey(input.signingKey));
}
