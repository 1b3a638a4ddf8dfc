export {
  createVerifier,
  verifyAccessToken,
  TokenVerificationError,
  type AccessTokenClaims,
  type AuthContext,
  type Verifier,
  type VerifyOptions,
} from './verify';
export {
  authstack,
  requireAuth,
  requireOrganization,
  requirePermission,
  requireRole,
  type MiddlewareOptions,
} from './express';
export { createBff, InstanceError, type Bff, type BffOptions, type BffUser } from './bff';
export { seal, unseal, sealingKey } from './seal';
