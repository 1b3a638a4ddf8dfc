/**
 * Register an instance's permission catalogue to type permission names everywhere the SDK
 * takes or returns one. `authstack-permissions` writes this augmentation for you:
 *
 * ```ts
 * declare module '@authstack/client' {
 *   interface Register {
 *     permission: 'organization:read' | 'projects:create' | ...;
 *   }
 * }
 * ```
 *
 * Without it, a permission is any string.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Register {}

/** A permission name: the registered catalogue's union, or `string` when none is registered. */
export type Permission = Register extends { permission: infer P extends string } ? P : string;

/** The permissions every instance has; the catalogue is these plus the instance's own. */
export const BUILTIN_PERMISSIONS = [
  'organization:read',
  'organization:update',
  'organization:delete',
  'members:read',
  'members:invite',
  'members:update',
  'members:remove',
  'roles:read',
  'roles:manage',
  'audit:read',
  'billing:read',
  'billing:manage',
] as const;

/** The roles every organization has; organizations add custom roles with their own keys. */
export const BUILTIN_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];
