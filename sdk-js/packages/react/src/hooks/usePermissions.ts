import type { BUILTIN_PERMISSIONS, Permission } from '@authstack/client';
import { useCallback, useMemo } from 'react';
import { useTenant } from './useTenant';

export interface UsePermissionsReturn {
  isLoaded: boolean;
  /** The permissions of the user's role in the current organization. */
  permissions: Permission[];
  role: string | null;
  organizationId: string | null;
  /** Typed: with a generated permission catalogue, a misspelt name does not compile. */
  hasPermission: (permission: Permission) => boolean;
  hasAnyPermission: (permissions: readonly Permission[]) => boolean;
  hasAllPermissions: (permissions: readonly Permission[]) => boolean;
}

/**
 * What the user may do in the current organization, from the access token's claims (or, under a
 * `<TenantProvider switchSession={false}>`, from the membership). For showing and hiding UI:
 * your API must still check the token.
 */
export function usePermissions(): UsePermissionsReturn {
  const { permissions, role, organizationId, isLoaded } = useTenant();
  const granted = useMemo(() => new Set<string>(permissions), [permissions]);
  const hasPermission = useCallback((permission: Permission) => granted.has(permission), [granted]);
  const hasAnyPermission = useCallback(
    (wanted: readonly Permission[]) => wanted.some((p) => granted.has(p)),
    [granted],
  );
  const hasAllPermissions = useCallback(
    (wanted: readonly Permission[]) => wanted.every((p) => granted.has(p)),
    [granted],
  );
  return { isLoaded, permissions, role, organizationId, hasPermission, hasAnyPermission, hasAllPermissions };
}

/** A permission every instance has (the components check only these). */
type BuiltinPermission = (typeof BUILTIN_PERMISSIONS)[number];

/** For the components: `can('members:update')`, whatever catalogue the app registered. */
export function useCan(): (permission: BuiltinPermission) => boolean {
  const { permissions } = usePermissions();
  return useCallback((permission: BuiltinPermission) => (permissions as readonly string[]).includes(permission), [permissions]);
}
