/**
 * The admin token, kept in sessionStorage (survives a reload, dies with the tab) or in memory when
 * storage is unavailable. Never written to the URL, never to localStorage.
 */
export interface TokenStore {
  get: () => string | null;
  set: (token: string | null) => void;
  subscribe: (listener: () => void) => () => void;
}

/** The sessionStorage key holding the token. */
export const TOKEN_STORAGE_KEY = "hotpath.adminToken";

/** Creates a token store over `storage` (sessionStorage in the browser; memory when absent or failing). */
export function createTokenStore(storage: Storage | undefined): TokenStore {
  let memory: string | null = null;
  try {
    memory = storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    memory = null;
  }
  const listeners = new Set<() => void>();
  return {
    get: () => memory,
    set: (token) => {
      const next = token?.trim() ? token.trim() : null;
      memory = next;
      try {
        if (next === null) storage?.removeItem(TOKEN_STORAGE_KEY);
        else storage?.setItem(TOKEN_STORAGE_KEY, next);
      } catch {
        // Storage full or disabled: the in-memory copy still works for this page.
      }
      for (const listener of listeners) listener();
    },
    subscribe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}

/** sessionStorage when the page may use it, else undefined (private modes can throw on access). */
export function browserSessionStorage(): Storage | undefined {
  try {
    return typeof sessionStorage === "undefined" ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}
