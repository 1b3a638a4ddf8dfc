import type { BUILTIN_ROLES } from './generated/builtins';

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

export { BUILTIN_PERMISSIONS, BUILTIN_ROLES, BUILTIN_ROLE_DEFINITIONS } from './generated/builtins';

/** A built-in role's key. */
export type BuiltinRole = (typeof BUILTIN_ROLES)[number];
