// The API's objects, named as the product names them. Each is the schema of
// instance/openapi.json (src/generated/openapi.ts), so a change there reaches every signature.
import type { components } from './generated/openapi';

type Schemas = components['schemas'];

export type User = Schemas['UserView'];
export type SessionInfo = Schemas['SessionView'];
export type Organization = Schemas['OrganizationView'];
/** An organization with the caller's role and permissions in it. */
export type OrganizationMembership = Schemas['OrganizationWithRole'];
export type Member = Schemas['Member'];
export type MemberPage = Schemas['MemberPage'];
export type Invitation = Schemas['InvitationView'];
export type AcceptedInvitation = Schemas['AcceptedInvitation'];
export type Role = Schemas['RoleView'];
export type PermissionInfo = Schemas['PermissionView'];
/** An organization API key as listed: never the key itself. */
export type OrganizationApiKey = Schemas['OrgKeyView'];
/** A created key: `key` (`ask_org_…`) is shown this once. */
export type CreatedOrganizationApiKey = Schemas['CreatedApiKey'];
/** An organization's webhook endpoint with its standing; the secret's first characters only. */
export type OrganizationWebhook = Schemas['OrgWebhook'];
/** A registered endpoint: `secret` (`whsec_…`) is shown this once. */
export type CreatedOrganizationWebhook = Schemas['CreatedOrgWebhook'];
/** A new secret, shown this once; the previous one signs until `previous_secret_expires_at`. */
export type RotatedWebhookSecret = Schemas['RotatedSecret'];
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookTestQueued = Schemas['WebhookTestQueued'];
export type WebhookReplayed = Schemas['WebhookReplayed'];
export type PermissionCheck = Schemas['PermissionCheck'];
export type AuditEntry = Schemas['AuditEntry'];
export type AuditPage = Schemas['AuditPage'];
export type UserPage = Schemas['UserPage'];
export type ImportReport = Schemas['ImportReport'];
export type ImportRow = Schemas['ImportRow'];
export type JwkSet = Schemas['JwkSet'];
export type ProviderMetadata = Schemas['ProviderMetadata'];
/** What signup, login, email verification and refresh return. */
export type TokenResponse = Schemas['TokenResponse'];
export type SwitchResponse = Schemas['SwitchResponse'];
export type ErrorBody = Schemas['ErrorBody'];

export type SignUpParams = Schemas['SignupRequest'];
export type ChangePasswordParams = Schemas['ChangePasswordRequest'];
export type UpdateMeParams = Schemas['UpdateMeRequest'];
export type CreateOrganizationParams = Schemas['CreateOrganizationRequest'];
export type UpdateOrganizationParams = Schemas['UpdateOrganizationRequest'];
export type CreateInvitationParams = Schemas['CreateInvitationRequest'];
export type AcceptInvitationParams = Schemas['AcceptInvitationRequest'];
export type CreateRoleParams = Schemas['CreateRoleRequest'];
export type UpdateRoleParams = Schemas['UpdateRoleRequest'];
export type CreateOrganizationApiKeyParams = Schemas['CreateApiKeyRequest'];
export type CreateOrganizationWebhookParams = Schemas['CreateOrgWebhookRequest'];
export type CreateUserParams = Schemas['CreateUserRequest'];
export type UpdateUserParams = Schemas['UpdateUserRequest'];
export type BanParams = Schemas['BanRequest'];
export type AuditFormat = Schemas['Format'];

/** Filters of the audit-log endpoints (organization and instance). */
export interface AuditLogQuery {
  action?: string;
  actorId?: string;
  targetId?: string;
  organizationId?: string;
  /** RFC 3339. */
  since?: string;
  /** RFC 3339. */
  until?: string;
  cursor?: string;
  limit?: number;
}

export interface MemberQuery {
  /** Matches email or name, case-insensitively. */
  search?: string;
  /** Only members with this role key. */
  role?: string;
  cursor?: string;
  limit?: number;
}

export interface UserQuery {
  search?: string;
  cursor?: string;
  limit?: number;
}
