export { createClient, createAdminClient, resolveBaseUrl } from './client';
export type {
  AdminClient,
  AdminClientOptions,
  AuthApi,
  AuthState,
  AuthStateListener,
  AuthStatus,
  AuthStackClient,
  ClientOptions,
  InvitationsApi,
  MeApi,
  MembersApi,
  OrganizationApiKeysApi,
  OrganizationWebhooksApi,
  OrganizationsApi,
  PermissionsApi,
  RolesApi,
  SignInParams,
  SignOutOptions,
  SignUpResult,
  StorageKind,
} from './api';
export {
  AuthStackError,
  NetworkError,
  RateLimitedError,
  isAuthStackError,
  type AuthStackErrorCode,
} from './errors';
export {
  BUILTIN_PERMISSIONS,
  BUILTIN_ROLE_DEFINITIONS,
  BUILTIN_ROLES,
  type BuiltinRole,
  type Permission,
  type Register,
} from './permissions';
export type {
  BroadcastChannelLike,
  ClientEnvironment,
  LockManagerLike,
  StorageLike,
} from './environment';
export type { IdTokenClaims, RedirectCallbackResult, SignInWithRedirectParams } from './redirect';
export { decodeAccessToken, type AccessTokenClaims } from './jwt';
export type * from './types';
export type { components, operations, paths } from './generated/openapi';
