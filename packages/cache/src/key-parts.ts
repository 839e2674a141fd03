import type { KeyPart } from "@hotpath/config";

/**
 * The key parts of a key given as one part or a list of parts (the form every builder here
 * accepts): `"a"` -> `["a"]`, `["user", 7]` -> `["user", 7]`.
 */
export function keyParts(key: KeyPart | readonly KeyPart[]): readonly KeyPart[] {
  return Array.isArray(key) ? (key as readonly KeyPart[]) : [key as KeyPart];
}
