// Coordination between the tabs that share a stored session: one refresh at a time across all of
// them (refresh tokens rotate, and spending one twice revokes the session), and messages that
// carry new tokens and sign-outs to the others.
import type { LockManagerLike, StorageLike } from './environment';
import type { User } from './types';

export type TabMessage =
  | {
      type: 'tokens';
      sid: string;
      accessToken: string;
      refreshToken: string;
      user: User | null;
    }
  | { type: 'user'; sid: string; user: User }
  | { type: 'signed-out'; sid: string | null };

/** How long a storage lease holds without its holder finishing (a closed tab's lease lapses). */
const LEASE_MS = 15_000;

/**
 * Runs `fn` while holding the cross-tab lock `name`: the Web Lock where the browser has Web
 * Locks, else a lease in `leaseStorage` (shared by the tabs), else (memory storage: no other tab
 * can hold the token) just `fn`.
 */
export async function withTabLock<T>(
  name: string,
  locks: LockManagerLike | null,
  leaseStorage: StorageLike | null,
  fn: () => Promise<T>,
): Promise<T> {
  if (locks) return locks.request(name, fn);
  if (!leaseStorage) return fn();
  const release = await takeLease(name, leaseStorage);
  try {
    return await fn();
  } finally {
    release();
  }
}

/**
 * A lease in shared storage: write our claim, wait, and check it survived, since two tabs can
 * write at the same moment (Lamport's "fast mutex" without its fast path). A tab that sees a
 * live claim of another tab waits for it to be released or to lapse.
 */
async function takeLease(name: string, storage: StorageLike): Promise<() => void> {
  const key = `${name}:lease`;
  const me = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  for (;;) {
    const current = parseLease(storage.getItem(key));
    if (!current || current.until <= Date.now()) {
      storage.setItem(key, JSON.stringify({ holder: me, until: Date.now() + LEASE_MS }));
      await sleep(30 + Math.random() * 20);
      if (parseLease(storage.getItem(key))?.holder === me) {
        return () => {
          if (parseLease(storage.getItem(key))?.holder === me) storage.removeItem(key);
        };
      }
    }
    await sleep(40 + Math.random() * 40);
  }
}

function parseLease(raw: string | null): { holder: string; until: number } | null {
  if (!raw) return null;
  try {
    const lease = JSON.parse(raw) as { holder?: unknown; until?: unknown };
    return typeof lease.holder === 'string' && typeof lease.until === 'number'
      ? { holder: lease.holder, until: lease.until }
      : null;
  } catch {
    return null;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
