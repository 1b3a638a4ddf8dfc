import type { CreatedOrganizationApiKey, CreateOrganizationApiKeyParams, OrganizationApiKey } from '@authstack/client';
import { useCallback } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { useTenantId } from '../context/tenant';
import { keys } from './keys';
import { useResource } from './useResource';

export interface UseOrganizationApiKeysReturn {
  isLoaded: boolean;
  organizationId: string | null;
  /** Newest first, revoked ones included; never the keys themselves. */
  apiKeys: OrganizationApiKey[];
  error: unknown;
  reload: () => Promise<void>;
  /** Creates a key with permissions the user holds; `key` in the answer is shown this once. */
  createApiKey: (params: CreateOrganizationApiKeyParams) => Promise<CreatedOrganizationApiKey>;
  revokeApiKey: (keyId: string) => Promise<void>;
}

const NO_KEYS: OrganizationApiKey[] = [];

/** An organization's machine keys (`ask_org_…`); needs `api_keys:manage`. */
export function useOrganizationApiKeys(options: { organizationId?: string } = {}): UseOrganizationApiKeysReturn {
  const { client, cache } = useCore();
  const { userId } = useAuthState();
  const tenant = useTenantId();
  const organizationId = options.organizationId ?? tenant;
  const ready = userId && organizationId;
  const list = useResource(ready ? keys.apiKeys(userId, organizationId) : null, () =>
    client.apiKeys.list(organizationId!),
  );

  const invalidate = useCallback(() => {
    const user = client.getState().userId;
    if (user && organizationId) cache.invalidate(keys.apiKeys(user, organizationId));
  }, [client, cache, organizationId]);

  const createApiKey = useCallback(
    async (params: CreateOrganizationApiKeyParams) => {
      const created = await client.apiKeys.create(organizationId!, params);
      invalidate();
      return created;
    },
    [client, organizationId, invalidate],
  );
  const revokeApiKey = useCallback(
    async (keyId: string) => {
      await client.apiKeys.revoke(organizationId!, keyId);
      invalidate();
    },
    [client, organizationId, invalidate],
  );

  return {
    isLoaded: !ready || list.data !== undefined || list.error !== undefined,
    organizationId,
    apiKeys: list.data ?? NO_KEYS,
    error: list.error,
    reload: list.reload,
    createApiKey,
    revokeApiKey,
  };
}
