import type { OrganizationMembership, Permission } from '@authstack/client';
import { useCallback, useState } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { useTenantId } from '../context/tenant';
import { keys } from './keys';
import { useOrganizations } from './useOrganizations';

export interface UseTenantReturn {
  isLoaded: boolean;
  /** The current organization with the user's role in it; null when none. */
  organization: OrganizationMembership | null;
  organizationId: string | null;
  /** The user's role key in it (`owner`, `admin`, `member`, `viewer` or a custom key). */
  role: string | null;
  permissions: Permission[];
  /** Makes `organizationId` the session's organization (a new access token with its claims). */
  switchOrganization: (organizationId: string) => Promise<OrganizationMembership>;
  isSwitching: boolean;
}

/** The organization the user works in (the nearest `<TenantProvider>`'s, else the session's). */
export function useTenant(): UseTenantReturn {
  const { client, cache } = useCore();
  const state = useAuthState();
  const organizationId = useTenantId();
  const { organizations, isLoaded } = useOrganizations();
  const [switching, setSwitching] = useState(0);
  const membership = organizationId ? (organizations.find((o) => o.id === organizationId) ?? null) : null;
  // The token's claims are authoritative for the session's own organization.
  const fromToken = organizationId !== null && organizationId === state.organizationId;

  const switchOrganization = useCallback(
    async (id: string) => {
      setSwitching((n) => n + 1);
      try {
        const switched = await client.organizations.switch(id);
        const user = client.getState().userId;
        if (user) cache.invalidate(keys.organizations(user));
        return switched;
      } finally {
        setSwitching((n) => n - 1);
      }
    },
    [client, cache],
  );

  return {
    isLoaded: state.status !== 'loading' && (organizationId === null || isLoaded),
    organization: membership,
    organizationId,
    role: fromToken ? state.role : (membership?.role ?? null),
    permissions: fromToken ? state.permissions : ((membership?.permissions ?? []) as Permission[]),
    switchOrganization,
    isSwitching: switching > 0,
  };
}
