/**
 * A small keyed cache of API reads shared by every hook under one provider, so that two
 * components showing the organization list make one request, and a mutation (create, invite,
 * change a role) refreshes every view of what it touched by invalidating a key prefix.
 */
export interface Entry<T> {
  data: T | undefined;
  error: unknown;
  isLoading: boolean;
}

interface Slot {
  entry: Entry<unknown>;
  promise: Promise<void> | null;
  /** Bumped on invalidation: a fetch that started before it does not overwrite newer data. */
  generation: number;
  stale: boolean;
  listeners: Set<() => void>;
}

const EMPTY: Entry<never> = { data: undefined, error: undefined, isLoading: true };

export class ResourceCache {
  private slots = new Map<string, Slot>();

  private slot(key: string): Slot {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { entry: EMPTY, promise: null, generation: 0, stale: true, listeners: new Set() };
      this.slots.set(key, slot);
    }
    return slot;
  }

  get<T>(key: string): Entry<T> {
    return (this.slots.get(key)?.entry ?? EMPTY) as Entry<T>;
  }

  subscribe(key: string, listener: () => void): () => void {
    const slot = this.slot(key);
    slot.listeners.add(listener);
    return () => {
      slot.listeners.delete(listener);
    };
  }

  private set(slot: Slot, entry: Entry<unknown>) {
    slot.entry = entry;
    for (const listener of [...slot.listeners]) listener();
  }

  /** Loads `key` unless it is fresh or already loading. */
  load<T>(key: string, fetcher: () => Promise<T>): Promise<void> {
    const slot = this.slot(key);
    if (slot.promise) return slot.promise;
    if (!slot.stale) return Promise.resolve();
    const generation = slot.generation;
    if (!slot.entry.isLoading) this.set(slot, { ...slot.entry, isLoading: true });
    const promise = fetcher().then(
      (data) => {
        if (slot.generation !== generation) return;
        slot.stale = false;
        this.set(slot, { data, error: undefined, isLoading: false });
      },
      (error: unknown) => {
        if (slot.generation !== generation) return;
        slot.stale = false;
        this.set(slot, { data: slot.entry.data, error, isLoading: false });
      },
    );
    const tracked: Promise<void> = promise.finally(() => {
      if (slot.promise === tracked) slot.promise = null;
    });
    slot.promise = tracked;
    return tracked;
  }

  /** Replaces `key`'s data (after a mutation that answered with the new value). */
  put<T>(key: string, data: T) {
    const slot = this.slot(key);
    slot.generation++;
    slot.stale = false;
    slot.promise = null;
    this.set(slot, { data, error: undefined, isLoading: false });
  }

  /** Marks every key starting with `prefix` stale; watched ones reload. */
  invalidate(prefix: string) {
    for (const [key, slot] of this.slots) {
      if (!key.startsWith(prefix)) continue;
      slot.generation++;
      slot.stale = true;
      slot.promise = null;
      // A new snapshot (data kept) makes the watching hooks load again.
      this.set(slot, { ...slot.entry, isLoading: true });
    }
  }

  /** Forgets everything (sign-out, user change). */
  clear() {
    for (const slot of this.slots.values()) {
      slot.generation++;
      slot.stale = true;
      slot.promise = null;
      // A new object even when it was empty: watchers must see a change to load again.
      this.set(slot, { ...EMPTY });
    }
  }

  isStale(key: string): boolean {
    return this.slots.get(key)?.stale ?? true;
  }
}
