/**
 * Every string the components show. Override any of them through
 * `<AuthStackProvider localization={{ signInTitle: 'Connexion', errors: { invalid_credentials: '…' } }}>`.
 *
 * `{name}` placeholders are filled in by the component (see `format`).
 */
export const en = {
  // Shared
  loading: 'Loading…',
  email: 'Email address',
  password: 'Password',
  name: 'Name',
  save: 'Save',
  saving: 'Saving…',
  saved: 'Saved.',
  cancel: 'Cancel',
  close: 'Close',
  remove: 'Remove',
  delete: 'Delete',
  revoke: 'Revoke',
  optional: '(optional)',
  signedOutNotice: 'Sign in to continue.',

  // LoginForm
  signInTitle: 'Sign in',
  signInSubmit: 'Sign in',
  signInSubmitting: 'Signing in…',
  forgotPasswordLink: 'Forgot your password?',
  noAccountLink: 'No account yet? Sign up',
  resendVerification: 'Send the verification link again',
  verificationResent: 'If {email} awaits verification, a new link is on its way.',

  // SignupForm
  signUpTitle: 'Create your account',
  signUpSubmit: 'Create account',
  signUpSubmitting: 'Creating your account…',
  signUpCheckInbox: 'Check your inbox: we sent a link to {email} to finish signing up.',
  haveAccountLink: 'Already have an account? Sign in',
  passwordHint: 'At least 8 characters; avoid common passwords.',

  // Email verification
  verifyEmailTitle: 'Verifying your email…',
  verifyEmailDone: 'Your email address is verified.',
  verifyEmailMissingToken: 'This verification link is incomplete.',

  // Password reset
  resetRequestTitle: 'Reset your password',
  resetRequestSubmit: 'Send reset link',
  resetRequestSubmitting: 'Sending…',
  resetRequestSent: 'If an account exists for {email}, a reset link is on its way.',
  resetTitle: 'Choose a new password',
  resetNewPassword: 'New password',
  resetConfirmPassword: 'Repeat the new password',
  resetSubmit: 'Set new password',
  resetSubmitting: 'Setting your password…',
  resetDone: 'Your password was changed. Sign in with the new one.',
  resetMismatch: 'The two passwords differ.',
  resetMissingToken: 'This reset link is incomplete; ask for a new one.',

  // UserProfile
  profileTitle: 'Your profile',
  profileEmailVerified: 'verified',
  profileEmailUnverified: 'not verified',
  profileSignOut: 'Sign out',
  profileChangePassword: 'Change password',
  profileCurrentPassword: 'Current password',
  profileNewPassword: 'New password',
  profilePasswordChanged: 'Your password was changed. Your other sessions were signed out.',

  // Organizations
  organizations: 'Organizations',
  organizationSwitcherLabel: 'Current organization',
  organizationSwitcherNone: 'No organization',
  organizationSwitcherPersonal: 'Personal account',
  organizationSwitcherCreate: 'Create organization',
  organizationListEmpty: 'You do not belong to any organization yet.',
  organizationRole: 'Your role: {role}',
  organizationOpen: 'Open',
  organizationCurrent: 'current',
  createOrganizationTitle: 'Create an organization',
  createOrganizationName: 'Organization name',
  createOrganizationSlug: 'URL slug',
  createOrganizationSlugHint: 'Lowercase letters, digits and dashes; derived from the name when empty.',
  createOrganizationSubmit: 'Create organization',
  createOrganizationSubmitting: 'Creating…',
  organizationSettingsTitle: 'Organization settings',
  organizationSettingsLogo: 'Logo URL',
  organizationDelete: 'Delete organization',
  organizationDeleteConfirm: 'Type the organization’s slug, {slug}, to delete it with its members, roles and invitations.',
  organizationDeleteSlugLabel: 'Slug to confirm',
  organizationLeave: 'Leave organization',
  organizationNoneSelected: 'Choose an organization first.',

  // Members and invitations
  members: 'Members',
  memberListEmpty: 'No members.',
  memberColumnName: 'Member',
  memberColumnRole: 'Role',
  memberColumnJoined: 'Joined',
  memberYou: '(you)',
  memberRemove: 'Remove {name}',
  memberRemoveTitle: 'Remove member',
  memberRemoveConfirm: 'Remove {name} from the organization?',
  memberRoleLabel: 'Role of {name}',
  memberLoadMore: 'Show more members',
  inviteMember: 'Invite member',
  inviteTitle: 'Invite a member',
  inviteEmail: 'Email address to invite',
  inviteRole: 'Role',
  inviteSubmit: 'Send invitation',
  inviteSubmitting: 'Sending…',
  inviteSent: 'Invitation sent to {email}.',
  pendingInvitations: 'Pending invitations',
  pendingInvitationsEmpty: 'No pending invitations.',
  invitationExpires: 'expires {date}',
  invitationExpired: 'expired',
  invitationResend: 'Resend',
  invitationResent: 'Invitation to {email} sent again.',
  invitationCancel: 'Revoke',
  acceptInvitationTitle: 'Join {organization}',
  acceptInvitationIntro: 'You were invited to join an organization.',
  acceptInvitationSubmit: 'Accept invitation',
  acceptInvitationSubmitting: 'Joining…',
  acceptInvitationNewAccount: 'New here? Choose a password to create your account and join.',
  acceptInvitationSignInFirst: 'An account exists for this address: sign in, then open the link again.',
  acceptInvitationDone: 'You joined {organization} as {role}.',
  acceptInvitationMissingToken: 'This invitation link is incomplete.',

  // Roles and permissions
  roles: 'Roles',
  roleBuiltin: 'built-in',
  roleCustom: 'custom',
  roleCreate: 'Create role',
  roleCreateTitle: 'Create a custom role',
  roleKey: 'Key',
  roleKeyHint: '2 to 48 characters of a-z, 0-9, _ and -, starting with a letter.',
  roleName: 'Role name',
  roleDescription: 'Description',
  roleCreated: 'Role {name} created.',
  roleDelete: 'Delete role {name}',
  roleEditPermissions: 'Permissions of {name}',
  permissions: 'Permissions',
  permissionsNone: 'No permissions.',

  // Organization API keys
  apiKeys: 'API keys',
  apiKeysNone: 'No API keys yet.',
  apiKeyCreateTitle: 'Create an API key',
  apiKeyName: 'Key name',
  apiKeyExpiresInDays: 'Expires after (days)',
  apiKeyCreate: 'Create key',
  apiKeyCreated: 'Key {name} created. Copy it now: it is not shown again.',
  apiKeySecretLabel: 'The new key',
  apiKeyRevoke: 'Revoke key {name}',
  apiKeyRevoked: 'revoked',
  apiKeyLastUsed: 'Last used {when}',
  apiKeyNeverUsed: 'Never used',
  apiKeyExpires: 'Expires {when}',
  permissionDenied: 'You do not have access to this.',

  // Subscription (experimental)
  subscriptionTitle: 'Subscription',
  subscriptionUnavailable: 'Plan and billing details are not available from this instance yet.',
  pricingTitle: 'Plans',
  pricingUnavailable: 'No plans are published by this instance yet.',
  billingPortalTitle: 'Billing',
  billingPortalUnavailable: 'The billing portal is not available from this instance yet.',

  errors: {
    invalid_request: 'Some of what you entered is not valid: {message}.',
    weak_password: 'Choose a stronger password: {message}.',
    invalid_credentials: 'The email or password is incorrect.',
    invalid_grant: 'This link is invalid, already used or expired.',
    email_not_verified: 'Verify your email address first: open the link we sent you.',
    user_banned: 'This account is blocked. Contact support.',
    rate_limited: 'Too many attempts. Wait a moment and try again.',
    unauthorized: 'Your session ended. Sign in again.',
    invalid_key: 'This API key is invalid, revoked or expired.',
    forbidden: 'You are not allowed to do this: {message}.',
    limit_exceeded: 'Your plan’s limit is reached: {message}.',
    not_found: 'This no longer exists.',
    conflict: 'This conflicts with something that exists: {message}.',
    payload_too_large: 'This is too large to send.',
    invalid_api_key: 'This app is misconfigured: its AuthStack key is not valid.',
    origin_not_allowed: 'This app’s address is not allowed to reach AuthStack. Add it to the allowed origins.',
    instance_unavailable: 'The sign-in service is not available right now. Try again shortly.',
    region_unavailable: 'The sign-in service is not available right now. Try again shortly.',
    upstream_timeout: 'The sign-in service took too long to answer. Try again.',
    unavailable: 'The sign-in service is starting up. Try again shortly.',
    bad_gateway: 'The sign-in service is not reachable right now. Try again.',
    network_error: 'Cannot reach the sign-in service. Check your connection and try again.',
    internal_error: 'Something went wrong on our side. Try again.',
    unknown: 'Something went wrong: {message}.',
  } as Record<string, string>,
};

/** The complete set of strings. */
export type Strings = typeof en;

/** What `localization` accepts: any subset of the strings, `errors` merged key by key. */
export type Localization = Partial<Omit<Strings, 'errors'>> & {
  errors?: Partial<Record<string, string>>;
};

/** Merges `overrides` over the English defaults. */
export function resolveStrings(overrides?: Localization): Strings {
  if (!overrides) return en;
  const errors = { ...en.errors };
  for (const [code, text] of Object.entries(overrides.errors ?? {})) {
    if (typeof text === 'string') errors[code] = text;
  }
  return { ...en, ...overrides, errors } as Strings;
}

/** Fills `{name}` placeholders; unknown placeholders stay as they are. */
export function format(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = values[key];
    return value === undefined ? whole : String(value);
  });
}
