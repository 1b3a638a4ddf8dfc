import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { describeError } from '../errors';
import { useOrganizations } from '../hooks/useOrganizations';
import { Alert } from '../primitives/Alert';
import { useAuthState, useCore } from './provider';
import { useUi } from './ui';

/** The organization a subtree is about, when a `<TenantProvider>` names one. */
export const TenantContext = createContext<string | null>(null);

/** The organization components work on: the nearest `<TenantProvider>`'s, else the session's. */
export function useTenantId(): string | null {
  const pinned = useContext(TenantContext);
  const { organizationId } = useAuthState();
  return pinned ?? organizationId;
}

export interface TenantProviderProps {
  /** The organization, by id. */
  organizationId?: string;
  /** Or by slug (e.g. from the URL, `/orgs/:slug`), among the user's organizations. */
  slug?: string;
  /**
   * Make it the session's current organization (default true), so that the access token, and
   * with it `usePermissions` and your API, work in it. Children render once it is.
   */
  switchSession?: boolean;
  /** Rendered while the organization is being resolved or switched to. */
  fallback?: ReactNode;
  children?: ReactNode;
}

/**
 * Scopes everything below it to one organization, typically the one in the URL: organization,
 * member and role components and hooks use it, and (by default) the session switches to it.
 */
export function TenantProvider({ organizationId, slug, switchSession = true, fallback = null, children }: TenantProviderProps) {
  const { client } = useCore();
  const { strings, onError } = useUi();
  const state = useAuthState();
  const { organizations, isLoaded } = useOrganizations();
  const [failure, setFailure] = useState<unknown>(null);
  const attempted = useRef<string | null>(null);

  const target = organizationId ?? (slug ? organizations.find((o) => o.slug === slug)?.id : undefined) ?? null;
  const unknownSlug = !organizationId && slug !== undefined && isLoaded && target === null;
  const needsSwitch = switchSession && target !== null && state.status === 'signed-in' && state.organizationId !== target;

  useEffect(() => {
    if (!needsSwitch || !target || attempted.current === target) return;
    attempted.current = target;
    setFailure(null);
    client.organizations.switch(target).catch((error: unknown) => {
      onError?.(error);
      setFailure(error);
    });
  }, [client, needsSwitch, target, onError]);

  if (unknownSlug) return <Alert>{describeError({ code: 'not_found', message: slug }, strings)}</Alert>;
  if (failure) return <Alert>{describeError(failure, strings)}</Alert>;
  if (target === null || needsSwitch) return <>{fallback}</>;
  return <TenantContext.Provider value={target}>{children}</TenantContext.Provider>;
}
