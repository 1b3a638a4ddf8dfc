import type { CreateOrganizationParams, OrganizationMembership } from '@authstack/client';
import { useCallback } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { keys } from './keys';
import { useResource } from './useResource';

export interface UseOrganizationsReturn {
  isLoaded: boolean;
  /** The organizations the user belongs to, each with the user's role and permissions there. */
  organizations: OrganizationMembership[];
  error: unknown;
  reload: () => Promise<void>;
  /** Creates an organization (the user becomes its owner); `switchTo` also makes it current. */
  createOrganization: (
    params: CreateOrganizationParams,
    options?: { switchTo?: boolean },
  ) => Promise<OrganizationMembership>;
}

const NONE: OrganizationMembership[] = [];

/** The signed-in user's organizations. */
export function useOrganizations(): UseOrganizationsReturn {
  const { client, cache } = useCore();
  const { userId, status } = useAuthState();
  const key = userId ? keys.organizations(userId) : null;
  const resource = useResource(key, () => client.organizations.list());
  const createOrganization = useCallback(
    async (params: CreateOrganizationParams, options?: { switchTo?: boolean }) => {
      const created = await client.organizations.create(params);
      if (options?.switchTo) await client.organizations.switch(created.id);
      const user = client.getState().userId;
      if (user) cache.invalidate(keys.organizations(user));
      return created;
    },
    [client, cache],
  );
  return {
    isLoaded: status !== 'loading' && (!key || resource.data !== undefined || resource.error !== undefined),
    organizations: resource.data ?? NONE,
    error: resource.error,
    reload: resource.reload,
    createOrganization,
  };
}
