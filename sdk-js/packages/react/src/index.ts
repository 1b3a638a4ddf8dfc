// @authstack/react: components and hooks over @authstack/client. See README.md.
export { AuthStackProvider, useAuthStackClient, type AuthStackProviderProps } from './context/provider';
export { TenantProvider, type TenantProviderProps } from './context/tenant';

export { useAuth, type UseAuthReturn } from './hooks/useAuth';
export { useUser, type UseUserReturn } from './hooks/useUser';
export { useTenant, type UseTenantReturn } from './hooks/useTenant';
export { useOrganizations, type UseOrganizationsReturn } from './hooks/useOrganizations';
export {
  useOrganizationMembers,
  type UseOrganizationMembersOptions,
  type UseOrganizationMembersReturn,
} from './hooks/useOrganizationMembers';
export { useInvitations, type UseInvitationsReturn } from './hooks/useInvitations';
export { usePermissions, type UsePermissionsReturn } from './hooks/usePermissions';
export { useRoles, type UseRolesReturn } from './hooks/useRoles';
export { useOrganizationApiKeys, type UseOrganizationApiKeysReturn } from './hooks/useOrganizationApiKeys';
export {
  experimental_useSubscription,
  type ExperimentalPlan,
  type ExperimentalSubscription,
  type UseSubscriptionReturn,
} from './hooks/useSubscription';

export { LoginForm, type LoginFormProps } from './components/auth/LoginForm';
export { SignupForm, type SignupFormProps } from './components/auth/SignupForm';
export { PasswordResetRequest, type PasswordResetRequestProps } from './components/auth/PasswordResetRequest';
export { PasswordResetForm, type PasswordResetFormProps } from './components/auth/PasswordResetForm';
export { EmailVerification, type EmailVerificationProps } from './components/auth/EmailVerification';
export { AcceptInvitation, type AcceptInvitationProps } from './components/auth/AcceptInvitation';
export { UserProfile, type UserProfileProps } from './components/profile/UserProfile';
export { OrganizationSwitcher, type OrganizationSwitcherProps } from './components/organizations/OrganizationSwitcher';
export { OrganizationList, type OrganizationListProps } from './components/organizations/OrganizationList';
export { OrganizationDetail, type OrganizationDetailProps } from './components/organizations/OrganizationDetail';
export { CreateOrganization, type CreateOrganizationProps } from './components/organizations/CreateOrganization';
export { OrganizationSettings, type OrganizationSettingsProps } from './components/organizations/OrganizationSettings';
export { InviteMemberModal, type InviteMemberModalProps } from './components/members/InviteMemberModal';
export { MemberList, type MemberListProps } from './components/members/MemberList';
export { MemberRoleManager, type MemberRoleManagerProps } from './components/members/MemberRoleManager';
export { PendingInvitations, type PendingInvitationsProps } from './components/members/PendingInvitations';
export { PermissionGate, type PermissionGateProps } from './components/gates/PermissionGate';
export { RoleGate, type RoleGateProps } from './components/gates/RoleGate';
export { RoleManager, type RoleManagerProps } from './components/roles/RoleManager';
export { PermissionEditor, type PermissionEditorProps } from './components/roles/PermissionEditor';
export { OrganizationApiKeys, type OrganizationApiKeysProps } from './components/apikeys/OrganizationApiKeys';
export {
  experimental_BillingPortal,
  experimental_PricingTable,
  experimental_SubscriptionStatus,
} from './components/subscription/Subscription';

export { en, type Localization, type Strings } from './localization';
export type { Theme, ThemeVariables } from './theme';
export { describeError } from './errors';
