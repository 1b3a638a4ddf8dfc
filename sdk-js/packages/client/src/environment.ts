// What the client uses of its host (browser tab, server, test), looked up only when `load()` runs,
// never at import: server rendering and runtimes without `window` are safe.

/** The part of the Web Storage API the client uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The part of the Web Locks API (`navigator.locks`) the client uses. */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

/**
 * The host facilities the client uses. Browsers provide all of them; pass your own to run
 * several clients as separate "tabs" in one process (tests) or to disable one (`null`).
 */
export interface ClientEnvironment {
  localStorage?: StorageLike | null;
  sessionStorage?: StorageLike | null;
  BroadcastChannel?: (new (name: string) => BroadcastChannelLike) | null;
  locks?: LockManagerLike | null;
  /** Goes to another page (the redirect flow); default `location.assign`. */
  navigate?: ((url: string) => void) | null;
  /** Subscribes to other tabs' writes to `localStorage` (the `storage` event). */
  onStorage?: ((listener: (key: string | null, newValue: string | null) => void) => () => void) | null;
}

/** The browser's facilities, each only if present and working. */
export function hostEnvironment(): Required<ClientEnvironment> {
  const g = globalThis as typeof globalThis & { navigator?: { locks?: LockManagerLike } };
  const addListener = typeof g.addEventListener === 'function' ? g : undefined;
  return {
    localStorage: webStorage('localStorage'),
    sessionStorage: webStorage('sessionStorage'),
    BroadcastChannel:
      typeof g.BroadcastChannel === 'function'
        ? (g.BroadcastChannel as unknown as new (name: string) => BroadcastChannelLike)
        : null,
    locks: g.navigator?.locks ?? null,
    navigate: typeof g.location?.assign === 'function' ? (url) => g.location.assign(url) : null,
    onStorage: addListener
      ? (listener) => {
          const handler = (event: Event) => {
            const e = event as StorageEvent;
            listener(e.key, e.newValue);
          };
          addListener.addEventListener('storage', handler);
          return () => addListener.removeEventListener('storage', handler);
        }
      : null,
  };
}

function webStorage(name: 'localStorage' | 'sessionStorage'): StorageLike | null {
  try {
    // Reading the property throws where storage is disabled (e.g. blocked cookies).
    const storage = (globalThis as Record<string, unknown>)[name] as StorageLike | undefined;
    if (!storage) return null;
    const probe = '__authstack_probe__';
    storage.setItem(probe, probe);
    storage.removeItem(probe);
    return storage;
  } catch {
    return null;
  }
}

/** A `StorageLike` in this tab's memory. */
export function memoryStorage(): StorageLike {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}
