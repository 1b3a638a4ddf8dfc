import type { CreateRoleParams, PermissionInfo, Role, UpdateRoleParams } from '@authstack/client';
import { useCallback } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { useTenantId } from '../context/tenant';
import { keys } from './keys';
import { useResource } from './useResource';

export interface UseRolesReturn {
  isLoaded: boolean;
  organizationId: string | null;
  /** Built-in roles first, then the organization's custom roles. */
  roles: Role[];
  /** The instance's permission catalogue (what a role can grant). */
  availablePermissions: PermissionInfo[];
  error: unknown;
  reload: () => Promise<void>;
  createRole: (params: CreateRoleParams) => Promise<Role>;
  updateRole: (roleId: string, params: UpdateRoleParams) => Promise<Role>;
  deleteRole: (roleId: string) => Promise<void>;
}

const NO_ROLES: Role[] = [];
const NO_PERMISSIONS: PermissionInfo[] = [];

/** An organization's roles (needs `roles:read`) and custom-role management (`roles:manage`). */
export function useRoles(options: { organizationId?: string } = {}): UseRolesReturn {
  const { client, cache } = useCore();
  const { userId } = useAuthState();
  const tenant = useTenantId();
  const organizationId = options.organizationId ?? tenant;
  const ready = userId && organizationId;
  const roles = useResource(ready ? keys.roles(userId, organizationId) : null, () =>
    client.roles.list(organizationId!),
  );
  const catalogue = useResource(ready ? keys.catalogue(userId, organizationId) : null, () =>
    client.permissions.list(organizationId!),
  );

  const invalidate = useCallback(() => {
    const user = client.getState().userId;
    // Members and invitations show role names too.
    if (user && organizationId) cache.invalidate(keys.orgPrefix(user, organizationId));
  }, [client, cache, organizationId]);

  const createRole = useCallback(
    async (params: CreateRoleParams) => {
      const role = await client.roles.create(organizationId!, params);
      invalidate();
      return role;
    },
    [client, organizationId, invalidate],
  );
  const updateRole = useCallback(
    async (roleId: string, params: UpdateRoleParams) => {
      const role = await client.roles.update(organizationId!, roleId, params);
      invalidate();
      return role;
    },
    [client, organizationId, invalidate],
  );
  const deleteRole = useCallback(
    async (roleId: string) => {
      await client.roles.delete(organizationId!, roleId);
      invalidate();
    },
    [client, organizationId, invalidate],
  );
  const reload = useCallback(async () => {
    await Promise.all([roles.reload(), catalogue.reload()]);
  }, [roles.reload, catalogue.reload]);

  return {
    isLoaded: !ready || (roles.data !== undefined || roles.error !== undefined),
    organizationId,
    roles: roles.data ?? NO_ROLES,
    availablePermissions: catalogue.data ?? NO_PERMISSIONS,
    error: roles.error ?? catalogue.error,
    reload,
    createRole,
    updateRole,
    deleteRole,
  };
}
