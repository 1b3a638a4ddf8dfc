// In-process stand-ins for what a browser gives the client across tabs: Web Locks,
// BroadcastChannel and a localStorage shared by several tabs with its `storage` events. The
// instance they talk to is the shared fake (sdk-js/test-support/fake-instance.ts).
import type { BroadcastChannelLike, LockManagerLike, StorageLike } from './environment';

/** An in-process Web Locks `request`: exclusive, FIFO per name. */
export function fakeLocks(): LockManagerLike & { granted: number } {
  const tails = new Map<string, Promise<unknown>>();
  const manager = {
    granted: 0,
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(() => {
        manager.granted += 1;
        return callback();
      });
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
  return manager;
}

/** BroadcastChannels of one "browser": a message reaches every other channel of the same name, later. */
export function fakeBroadcastBus(): new (name: string) => BroadcastChannelLike {
  const channels = new Set<{ name: string; channel: BroadcastChannelLike }>();
  return class FakeBroadcastChannel implements BroadcastChannelLike {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    private readonly entry: { name: string; channel: BroadcastChannelLike };
    constructor(readonly name: string) {
      this.entry = { name, channel: this };
      channels.add(this.entry);
    }
    postMessage(message: unknown): void {
      const data = structuredClone(message);
      for (const { name, channel } of channels) {
        if (channel !== this && name === this.name) setTimeout(() => channel.onmessage?.({ data }), 0);
      }
    }
    close(): void {
      channels.delete(this.entry);
    }
  };
}

/** One browser's localStorage shared by several "tabs", firing `storage` events in the others. */
export function sharedStorage() {
  const items = new Map<string, string>();
  const listeners = new Map<number, (key: string | null, value: string | null) => void>();
  let nextTab = 0;
  const tab = () => {
    const id = ++nextTab;
    const fire = (key: string, value: string | null) => {
      for (const [other, listener] of listeners) if (other !== id) setTimeout(() => listener(key, value), 0);
    };
    const storage: StorageLike = {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => {
        items.set(key, value);
        fire(key, value);
      },
      removeItem: (key) => {
        items.delete(key);
        fire(key, null);
      },
    };
    const onStorage = (listener: (key: string | null, value: string | null) => void) => {
      listeners.set(id, listener);
      return () => void listeners.delete(id);
    };
    return { storage, onStorage };
  };
  return { items, tab };
}
