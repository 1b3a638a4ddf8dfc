import {
  createClient,
  type AuthStackClient,
  type AuthState,
  type StorageKind,
} from '@authstack/client';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { resolveStrings, type Localization } from '../localization';
import type { Theme } from '../theme';
import { ResourceCache } from './cache';
import { UiContext, type Ui } from './ui';

export interface AuthStackProviderProps {
  /** The instance's publishable key (`ask_live_…` / `ask_test_…`). */
  apiKey?: string;
  /** The region whose gateway serves the instance, e.g. `eu-west-1`. */
  region?: string;
  /** The gateway's URL, e.g. `authstack dev`'s `gateway_url`. Wins over `region`. */
  baseUrl?: string;
  /** Where the refresh token is kept (default `localStorage` in browsers). */
  storage?: StorageKind;
  /** Colours, radius, font: become `--authstack-*` CSS variables on every component. */
  theme?: Theme;
  /** Overrides of any of the components' strings, including error texts by API code. */
  localization?: Localization;
  /** Told about every failed action (sign-in, invite, ...) and a failed session restore. */
  onError?: (error: unknown) => void;
  /** A fetch for the client (tests, instrumentation). */
  fetch?: typeof fetch;
  /** A client you created yourself (`createClient`); then the options above are not used. */
  client?: AuthStackClient;
  children?: ReactNode;
}

/** What the hooks share: the client, its state, and the cache of API reads. */
export interface Core {
  client: AuthStackClient;
  cache: ResourceCache;
}

export const CoreContext = createContext<Core | null>(null);

/** The state during server rendering and hydration: nothing is known before `load()`. */
const LOADING: AuthState = Object.freeze({
  status: 'loading',
  user: null,
  userId: null,
  sessionId: null,
  authMethods: [],
  organizationId: null,
  organizationSlug: null,
  role: null,
  permissions: [],
}) as AuthState;

export function useCore(): Core {
  const core = useContext(CoreContext);
  if (!core) throw new Error('@authstack/react: wrap your app in <AuthStackProvider>');
  return core;
}

/** The client's auth state, as React state (loading during server rendering). */
export function useAuthState(): AuthState {
  const { client } = useCore();
  return useSyncExternalStore(
    useCallback((listener: () => void) => client.subscribe(listener), [client]),
    () => client.getState(),
    () => LOADING,
  );
}

/**
 * Makes the AuthStack client, the theme and the strings available to every component and hook
 * below it. Restores a stored session after mounting (never during server rendering).
 */
export function AuthStackProvider({
  apiKey,
  region,
  baseUrl,
  storage,
  theme,
  localization,
  onError,
  fetch: fetchImpl,
  client: given,
  children,
}: AuthStackProviderProps) {
  const [owned] = useState<AuthStackClient | null>(() => {
    if (given) return null;
    if (!apiKey) throw new Error('@authstack/react: <AuthStackProvider> needs apiKey (or client)');
    return createClient({ apiKey, region, baseUrl, storage, fetch: fetchImpl });
  });
  const client = given ?? owned!;
  const [cache] = useState(() => new ResourceCache());
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  useEffect(() => {
    let cancelled = false;
    client.load().catch((error: unknown) => {
      if (!cancelled) onErrorRef.current?.(error);
    });
    return () => {
      cancelled = true;
    };
  }, [client]);

  // The client we made lives as long as the provider. A deferred check, because StrictMode
  // unmounts and remounts once in development and the client must survive that.
  const mounted = useRef(0);
  useEffect(() => {
    if (!owned) return;
    mounted.current++;
    return () => {
      mounted.current--;
      setTimeout(() => {
        if (mounted.current === 0) owned.destroy();
      }, 0);
    };
  }, [owned]);

  // Cached reads are keyed by user; drop the previous user's when someone else signs in or out.
  const userId = useSyncExternalStore(
    useCallback((listener: () => void) => client.subscribe(listener), [client]),
    () => client.getState().userId,
    () => null,
  );
  const previousUser = useRef(userId);
  useEffect(() => {
    if (previousUser.current !== userId) {
      previousUser.current = userId;
      cache.clear();
    }
  }, [cache, userId]);

  const core = useMemo<Core>(() => ({ client, cache }), [client, cache]);
  const ui = useMemo<Ui>(
    () => ({
      strings: resolveStrings(localization),
      theme,
      onError: (error: unknown) => onErrorRef.current?.(error),
    }),
    [localization, theme],
  );
  return (
    <CoreContext.Provider value={core}>
      <UiContext.Provider value={ui}>{children}</UiContext.Provider>
    </CoreContext.Provider>
  );
}

/** The provider's `@authstack/client` instance, for calls the components do not cover. */
export function useAuthStackClient(): AuthStackClient {
  return useCore().client;
}
