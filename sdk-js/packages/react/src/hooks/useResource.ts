import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import { useCore } from '../context/provider';
import type { Entry } from '../context/cache';

const IDLE: Entry<never> = { data: undefined, error: undefined, isLoading: false };
const SERVER: Entry<never> = { data: undefined, error: undefined, isLoading: true };

export interface Resource<T> extends Entry<T> {
  /** Loads again, ignoring the cache. */
  reload: () => Promise<void>;
}

/**
 * A cached API read under `key` (null: nothing to read, e.g. signed out). Loads after mount,
 * never during server rendering; shares the request and the result with every other hook
 * reading the same key.
 */
export function useResource<T>(key: string | null, fetcher: () => Promise<T>): Resource<T> {
  const { cache } = useCore();
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const entry = useSyncExternalStore(
    useCallback((listener: () => void) => (key ? cache.subscribe(key, listener) : () => {}), [cache, key]),
    () => (key ? cache.get<T>(key) : IDLE),
    () => (key ? SERVER : IDLE),
  );
  useEffect(() => {
    if (key && cache.isStale(key)) void cache.load(key, () => fetcherRef.current());
  }, [cache, key, entry]);
  const reload = useCallback(async () => {
    if (!key) return;
    cache.invalidate(key);
    await cache.load(key, () => fetcherRef.current());
  }, [cache, key]);
  return { ...entry, reload };
}
