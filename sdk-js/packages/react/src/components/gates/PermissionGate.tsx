import type { Permission } from '@authstack/client';
import type { ReactNode } from 'react';
import { usePermissions } from '../../hooks/usePermissions';

export type PermissionGateProps = {
  /** Rendered when the check fails (and while the session loads). Default: nothing. */
  fallback?: ReactNode;
  children?: ReactNode;
} & (
  | { permission: Permission; anyOf?: never; allOf?: never }
  | { anyOf: readonly Permission[]; permission?: never; allOf?: never }
  | { allOf: readonly Permission[]; permission?: never; anyOf?: never }
);

/**
 * Renders its children only when the user's role in the current organization grants the
 * permission (`permission`), at least one (`anyOf`) or all (`allOf`). Permission names are
 * typed (see `authstack-permissions`). This hides UI; your API must check the token too.
 */
export function PermissionGate(props: PermissionGateProps) {
  const { isLoaded, hasPermission, hasAnyPermission, hasAllPermissions } = usePermissions();
  const allowed =
    isLoaded &&
    (props.permission !== undefined
      ? hasPermission(props.permission)
      : props.anyOf !== undefined
        ? hasAnyPermission(props.anyOf)
        : hasAllPermissions(props.allOf));
  return <>{allowed ? props.children : (props.fallback ?? null)}</>;
}
