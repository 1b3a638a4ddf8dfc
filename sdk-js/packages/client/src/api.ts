// The public surface of @authstack/client: options, auth state and the client's methods.
import type { ClientEnvironment } from './environment';
import type { Permission } from './permissions';
import type { RedirectCallbackResult, SignInWithRedirectParams } from './redirect';
import type {
  AcceptedInvitation,
  AcceptInvitationParams,
  AuditFormat,
  AuditLogQuery,
  AuditPage,
  BanParams,
  ChangePasswordParams,
  CreateInvitationParams,
  CreateOrganizationApiKeyParams,
  CreateOrganizationParams,
  CreateOrganizationWebhookParams,
  CreateRoleParams,
  CreateUserParams,
  CreatedOrganizationApiKey,
  CreatedOrganizationWebhook,
  ImportReport,
  ImportRow,
  Invitation,
  JwkSet,
  Member,
  MemberPage,
  MemberQuery,
  Organization,
  OrganizationApiKey,
  OrganizationMembership,
  OrganizationWebhook,
  PermissionCheck,
  PermissionInfo,
  ProviderMetadata,
  Role,
  RotatedWebhookSecret,
  SessionInfo,
  SignUpParams,
  UpdateMeParams,
  UpdateOrganizationParams,
  UpdateRoleParams,
  UpdateUserParams,
  User,
  UserPage,
  WebhookDelivery,
  WebhookReplayed,
  WebhookTestQueued,
  UserQuery,
} from './types';

/** Where the refresh token is kept. The access token is only ever in memory. */
export type StorageKind = 'memory' | 'localStorage' | 'sessionStorage';

export interface ClientOptions {
  /** The publishable key (`ask_live_…` / `ask_test_…`), sent as `X-AuthStack-Key`. */
  apiKey: string;
  /** The gateway's URL, e.g. `http://127.0.0.1:7401` for `authstack dev`. Wins over `region`. */
  baseUrl?: string;
  /** A region name: the gateway is `https://<region>.api.authstack.io`. */
  region?: string;
  /** Default `'localStorage'` in browsers that have it, else `'memory'`. */
  storage?: StorageKind;
  /** The fetch to use (tests, instrumented fetches); default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Refresh this long before the access token expires (ms); default 30 000. */
  refreshLeewayMs?: number;
  /**
   * Refresh on a timer before expiry (default true). Off, tokens are refreshed on demand only
   * (by `getAccessToken()` and on a 401).
   */
  autoRefresh?: boolean;
  /** Share sign-in, refresh and sign-out with this browser's other tabs (default true). */
  crossTab?: boolean;
  /** Namespaces stored and broadcast data (default: the API key). */
  storageKey?: string;
  /** Errors of background work (timed refresh, cross-tab messages); default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * The host facilities to use instead of the browser's (storage, BroadcastChannel, Web Locks,
   * storage events); tests run several clients as tabs of one browser with it.
   */
  environment?: ClientEnvironment;
}

export type AuthStatus = 'loading' | 'signed-out' | 'signed-in';

/** Everything a UI needs to know about who is signed in, derived from the access token's claims. */
export interface AuthState {
  status: AuthStatus;
  /** From the latest token response or `/v1/me`; null when signed out. */
  user: User | null;
  /** The user id (`sub`). */
  userId: string | null;
  /** The session id (`sid`). */
  sessionId: string | null;
  /** Authentication methods of the session (`amr`), e.g. `['pwd']`. */
  authMethods: string[];
  /** The organization the session works in (`org_id`), if any. */
  organizationId: string | null;
  organizationSlug: string | null;
  /** The role key in that organization (`org_role`). */
  role: string | null;
  /** The role's permissions in that organization. */
  permissions: Permission[];
}

export type AuthStateListener = (state: AuthState) => void;

export interface SignInParams {
  email: string;
  password: string;
  /** Start the session in this organization (the user must be a member). */
  organizationId?: string;
}

/** What `signUp` did: signed in, or (with email verification required) a link was mailed. */
export type SignUpResult =
  | { status: 'signed-in'; user: User }
  | { status: 'verification-required'; message: string };

export interface SignOutOptions {
  /** `'local'` (default) ends this session; `'global'` ends every session of the user. */
  scope?: 'local' | 'global';
  /**
   * A session from `signInWithRedirect`: after revoking its refresh token at the provider, send
   * the browser to the provider's end-session endpoint (which ends the sign-in there too).
   */
  endSession?: boolean;
  /** With `endSession`: registered with the application; where the provider sends the user back. */
  postLogoutRedirectUri?: string;
}

export interface AuthApi {
  signUp(params: SignUpParams): Promise<SignUpResult>;
  signIn(params: SignInParams): Promise<User>;
  /**
   * Sends the browser to the instance's hosted sign-in (authorization code + PKCE S256, as a
   * public `spa` application); `state`, `nonce` and the verifier wait in sessionStorage.
   */
  signInWithRedirect(params: SignInWithRedirectParams): Promise<void>;
  /**
   * On the redirect URI's page: checks `state` and `iss`, exchanges the code (client id and
   * verifier, no secret), checks the ID token's nonce, and signs the session in. Once per sign-in.
   */
  handleRedirectCallback(url?: string): Promise<RedirectCallbackResult>;
  /** Ends the session on the instance and here, and in every tab sharing it. */
  signOut(options?: SignOutOptions): Promise<void>;
  /** Rotates the refresh token now (shared with any refresh already in flight). */
  refresh(): Promise<void>;
  /** Always resolves the same way, whether or not the address has an account. */
  requestPasswordReset(email: string): Promise<void>;
  resetPassword(params: { token: string; password: string }): Promise<void>;
  /** Verifies the address and signs the user in. */
  verifyEmail(token: string): Promise<User>;
  resendVerification(email: string): Promise<void>;
  changePassword(params: ChangePasswordParams): Promise<void>;
}

export interface MeApi {
  /** Fetches the user and updates `state.user`. */
  get(): Promise<User>;
  update(params: UpdateMeParams): Promise<User>;
  /** Deletes the account (the password is required when it has one) and signs out. */
  delete(params?: { password?: string }): Promise<void>;
  organizations(): Promise<OrganizationMembership[]>;
  sessions(): Promise<SessionInfo[]>;
  revokeSession(sessionId: string): Promise<void>;
}

export interface OrganizationsApi {
  list(): Promise<OrganizationMembership[]>;
  create(params: CreateOrganizationParams): Promise<OrganizationMembership>;
  get(organizationId: string): Promise<OrganizationMembership>;
  update(organizationId: string, params: UpdateOrganizationParams): Promise<Organization>;
  delete(organizationId: string): Promise<void>;
  /** Makes the session work in this organization: a new access token with its claims. */
  switch(organizationId: string): Promise<OrganizationMembership>;
  leave(organizationId: string): Promise<void>;
  auditLogs(organizationId: string, query?: AuditLogQuery): Promise<AuditPage>;
  /** The audit log exported as `jsonl` or `csv` text. */
  exportAuditLogs(
    organizationId: string,
    format: Exclude<AuditFormat, 'json'>,
    query?: AuditLogQuery,
  ): Promise<string>;
}

export interface MembersApi {
  list(organizationId: string, query?: MemberQuery): Promise<MemberPage>;
  updateRole(organizationId: string, userId: string, role: string): Promise<Member>;
  remove(organizationId: string, userId: string): Promise<void>;
}

export interface InvitationsApi {
  list(organizationId: string): Promise<Invitation[]>;
  create(organizationId: string, params: CreateInvitationParams): Promise<Invitation>;
  revoke(organizationId: string, invitationId: string): Promise<void>;
  resend(organizationId: string, invitationId: string): Promise<Invitation>;
  /**
   * Accepts an invitation: signed in, as the current user; signed out, with `password` (and
   * `name`), creating the account and signing it in, working in the organization.
   */
  accept(params: AcceptInvitationParams): Promise<AcceptedInvitation>;
}

export interface RolesApi {
  list(organizationId: string): Promise<Role[]>;
  create(organizationId: string, params: CreateRoleParams): Promise<Role>;
  update(organizationId: string, roleId: string, params: UpdateRoleParams): Promise<Role>;
  delete(organizationId: string, roleId: string): Promise<void>;
}

/** An organization's machine keys (`ask_org_…`); every call needs `api_keys:manage`. */
export interface OrganizationApiKeysApi {
  /** Newest first, revoked ones included; never the keys themselves. */
  list(organizationId: string): Promise<OrganizationApiKey[]>;
  /** Only permissions the caller holds; the returned `key` is shown this once. */
  create(organizationId: string, params: CreateOrganizationApiKeyParams): Promise<CreatedOrganizationApiKey>;
  revoke(organizationId: string, keyId: string): Promise<void>;
}

/**
 * An organization's webhook endpoints, which receive its audit events signed per Standard
 * Webhooks; every call needs `webhooks:manage`.
 */
export interface OrganizationWebhooksApi {
  /** Oldest first, with their standing and last delivery; a secret's first characters only. */
  list(organizationId: string): Promise<OrganizationWebhook[]>;
  /** The returned `secret` (`whsec_…`) is shown this once. */
  create(organizationId: string, params: CreateOrganizationWebhookParams): Promise<CreatedOrganizationWebhook>;
  delete(organizationId: string, webhookId: string): Promise<void>;
  /** A new secret, shown this once; the previous one keeps signing for 24 hours. */
  rotateSecret(organizationId: string, webhookId: string): Promise<RotatedWebhookSecret>;
  /** Queues a `webhook.test` event for this endpoint alone. */
  test(organizationId: string, webhookId: string): Promise<WebhookTestQueued>;
  /** Enables an endpoint disabled after sustained failure; its queued events are sent. */
  enable(organizationId: string, webhookId: string): Promise<OrganizationWebhook>;
  /** The delivery log, newest first (`limit` 1 to 200, default 50). */
  deliveries(organizationId: string, webhookId: string, params?: { limit?: number }): Promise<WebhookDelivery[]>;
  /** Sends an event again (same id and payload) to each of the organization's endpoints it went to. */
  replay(organizationId: string, eventId: string): Promise<WebhookReplayed>;
}

export interface PermissionsApi {
  /** The instance's permission catalogue, as seen from an organization. */
  list(organizationId: string): Promise<PermissionInfo[]>;
  /** Whether the user (default: the caller) holds `permission`, and why. */
  check(organizationId: string, permission: Permission, userId?: string): Promise<PermissionCheck>;
}

export interface AuthStackClient {
  readonly auth: AuthApi;
  readonly me: MeApi;
  readonly organizations: OrganizationsApi;
  readonly members: MembersApi;
  readonly invitations: InvitationsApi;
  readonly roles: RolesApi;
  readonly apiKeys: OrganizationApiKeysApi;
  readonly webhooks: OrganizationWebhooksApi;
  readonly permissions: PermissionsApi;
  /** The gateway URL every request goes to. */
  readonly baseUrl: string;
  /**
   * Restores the session from storage (refreshing it) and starts cross-tab sync. Idempotent;
   * every API call awaits it. Never called during server rendering, the state stays `loading`.
   */
  load(): Promise<AuthState>;
  getState(): AuthState;
  /** Calls `listener` on every state change; returns the unsubscribe function. */
  subscribe(listener: AuthStateListener): () => void;
  /** A valid access token (refreshed first when near expiry), or null when signed out. */
  getAccessToken(): Promise<string | null>;
  /** True when the current organization role grants `permission` (from the token's claims). */
  hasPermission(permission: Permission): boolean;
  /** The instance's public keys (`/.well-known/jwks.json`). */
  jwks(): Promise<JwkSet>;
  openidConfiguration(): Promise<ProviderMetadata>;
  /** Stops timers and cross-tab listeners; the client is unusable afterwards. */
  destroy(): void;
}

export interface AdminClientOptions {
  /**
   * A secret key (`ask_secret_live_…` through the gateway) or the instance's admin key
   * (`ask_admin_…`, talking to the instance directly). Server-side only.
   */
  secretKey: string;
  baseUrl?: string;
  region?: string;
  fetch?: typeof fetch;
}

/** The instance's admin API. Never construct one in a browser: the key grants everything. */
export interface AdminClient {
  readonly users: {
    list(query?: UserQuery): Promise<UserPage>;
    create(params: CreateUserParams): Promise<User>;
    get(userId: string): Promise<User>;
    update(userId: string, params: UpdateUserParams): Promise<User>;
    delete(userId: string): Promise<void>;
    ban(userId: string, params?: BanParams): Promise<User>;
    unban(userId: string): Promise<User>;
    /** Ends every session of the user; resolves to how many were ended. */
    revokeSessions(userId: string): Promise<number>;
    import(users: ImportRow[]): Promise<ImportReport>;
  };
  auditLogs(query?: AuditLogQuery): Promise<AuditPage>;
  exportAuditLogs(format: Exclude<AuditFormat, 'json'>, query?: AuditLogQuery): Promise<string>;
  /** Starts signing with a new key; resolves to its `kid`. */
  rotateSigningKey(): Promise<string>;
  readonly baseUrl: string;
}
