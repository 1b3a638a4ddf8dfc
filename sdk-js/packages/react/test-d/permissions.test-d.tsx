// Type-level test (`npm run typecheck`): with a registered permission catalogue, as
// `authstack-permissions` writes it, permission names are checked at compile time.
import { PermissionGate, usePermissions } from '../src/index';

declare module '@authstack/client' {
  interface Register {
    // Deliberately not the whole built-in catalogue: the components must compile regardless.
    permission: 'organization:read' | 'members:read' | 'members:invite' | 'projects:create';
  }
}

export function Checks() {
  const { hasPermission, hasAnyPermission, hasAllPermissions, permissions } = usePermissions();
  hasPermission('projects:create');
  // @ts-expect-error a misspelt permission does not compile
  hasPermission('projcts:create');
  hasAnyPermission(['members:read', 'projects:create']);
  // @ts-expect-error
  hasAllPermissions(['members:read', 'members:inivte']);
  const first: 'organization:read' | 'members:read' | 'members:invite' | 'projects:create' | undefined = permissions[0];
  return (
    <>
      <PermissionGate permission="projects:create">ok</PermissionGate>
      <PermissionGate anyOf={['members:read']}>ok</PermissionGate>
      {/* @ts-expect-error */}
      <PermissionGate permission="project:create">no</PermissionGate>
      {/* @ts-expect-error permission and anyOf are exclusive */}
      <PermissionGate permission="members:read" anyOf={['members:read']}>
        no
      </PermissionGate>
      {first}
    </>
  );
}
