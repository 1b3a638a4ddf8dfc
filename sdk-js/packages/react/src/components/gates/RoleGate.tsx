import type { ReactNode } from 'react';
import { useTenant } from '../../hooks/useTenant';

export type RoleGateProps = {
  fallback?: ReactNode;
  children?: ReactNode;
} & ({ role: string; anyOf?: never } | { anyOf: readonly string[]; role?: never });

/**
 * Renders its children only when the user's role in the current organization is `role` (or one
 * of `anyOf`). Prefer `<PermissionGate>`: permissions survive role changes and custom roles.
 */
export function RoleGate(props: RoleGateProps) {
  const { isLoaded, role } = useTenant();
  const wanted = props.role !== undefined ? [props.role] : props.anyOf;
  const allowed = isLoaded && role !== null && wanted.includes(role);
  return <>{allowed ? props.children : (props.fallback ?? null)}</>;
}
