// Shapes of the control-plane API (control-plane/src/*/routes.rs). Times are RFC 3339 strings.

export interface Platform {
  instance_id: string;
  gateway_url: string;
  publishable_key: string;
  /** The built SDK tarballs this control plane serves; null (or absent) when it serves none. */
  sdk?: { client: string; react: string } | null;
}

/** A configuration path (or a section of them) and whether the instance acts on it. */
export interface SettingCapability {
  path: string;
  label: string;
  active: boolean;
}

/** A plan feature (`sso`, `custom_domain`) and whether the product delivers it yet. */
export interface PlanFeatureCapability {
  key: string;
  label: string;
  active: boolean;
}

/** `GET /v1/capabilities`: what the instances act on, so that no page claims more. */
export interface Capabilities {
  settings: SettingCapability[];
  plan_features: PlanFeatureCapability[];
}

/** A setting a change touches that the instance records but does not act on yet. */
export interface NotActiveSetting {
  path: string;
  label: string;
}

/** One mail the instance wrote to its outbox (under `authstack dev`). */
export interface MailMessage {
  /** The file name in the outbox. */
  id: string;
  kind: string;
  to: string;
  subject: string;
  text: string;
  link: string | null;
  received_at: string;
}

export interface Mailbox {
  instance_id: string;
  label: string;
  account_id: string | null;
  environment: Environment | null;
  /** The outbox directory on the machine that runs `authstack dev`. */
  outbox: string;
  /** Newest first. */
  messages: MailMessage[];
}

/** `GET /v1/dev/mailbox`: every instance's outbox; only under `authstack dev`. */
export interface DevMailbox {
  mailboxes: Mailbox[];
}

/** `POST /v1/invitations/lookup` on the platform instance: what an invitation token is for. */
export interface InvitationPreview {
  organization: { id: string; name: string; slug: string };
  role: string;
  email: string;
  expires_at: string;
}

export interface PlanLimits {
  monthly_active_users: number | null;
  organizations: number | null;
  members_per_organization: number | null;
  custom_roles_per_organization: number | null;
  regions: string[];
  audit_retention_days: number;
  version_history_days: number;
  sso: boolean;
  custom_domain: boolean;
  customization_prompts_per_month: number;
  api_requests_per_second: number;
}

export interface Plan {
  id: string;
  name: string;
  stripe_price_id: string;
  limits: PlanLimits;
}

export interface Region {
  id: string;
  name: string;
  provisioner: string;
  available: boolean;
}

export interface Subscription {
  plan: string;
  region: string;
  status: string;
  provider: string;
  current_period_end: string | null;
  cancel_at_period_end: boolean;
  grace_until: string | null;
  delete_after: string | null;
}

export type Environment = 'live' | 'test';
export type InstanceState = 'provisioning' | 'ready' | 'updating' | 'suspended' | 'deleting' | 'deleted' | 'failed';

export interface Step {
  at: string;
  step: string;
  detail?: string;
}

export interface Instance {
  id: string;
  account_id: string | null;
  environment: Environment;
  region: string;
  plan: string;
  state: InstanceState;
  desired: string;
  revision: number;
  current_revision: number | null;
  last_healthy_revision: number | null;
  allowed_origins: string[];
  last_error: string | null;
  created_at: string;
  updated_at: string;
  /** In the instance list only. */
  gateway_url?: string;
  steps?: Step[];
}

export interface Account {
  id: string;
  organization_id: string;
  name: string;
  created_by: string;
  created_at: string;
  subscription: Subscription | null;
  instances: Instance[];
}

export interface SubscribeResponse {
  subscription: Subscription | null;
  checkout_url?: string;
  instances: Instance[];
}

export interface ApiKey {
  id: string;
  name: string;
  kind: 'publishable' | 'secret';
  environment: Environment;
  instance_id: string;
  display_prefix: string;
  created_at: string;
  last_used_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  replaced_by: string | null;
  /** Who made the key; `null` for a key made before creators were recorded, or by the system. */
  created_by: KeyCreator | null;
}

/** The member who made a key. */
export interface KeyCreator {
  user_id: string;
  email: string;
  /**
   * Whether they are still a member of the account: `false` when they have left (a departed
   * teammate's key that still works is a risk), `null` when it could not be checked (the
   * viewer lacks `members:read`).
   */
  member: boolean | null;
}

export interface NewKey extends ApiKey {
  /** The whole key: shown once. */
  secret: string;
}

export type RevisionSource = 'initial' | 'dashboard' | 'api' | 'import' | 'customization' | 'plan_change' | 'promotion';
export type Outcome = 'pending' | 'deploying' | 'deployed' | 'failed';

export interface Revision {
  number: number;
  summary: string;
  source: RevisionSource;
  author: string | null;
  created_at: string;
  outcome: Outcome;
  outcome_detail: string | null;
  deployed_at: string | null;
  current: boolean;
  last_healthy: boolean;
  config?: Record<string, unknown>;
}

export interface RevisionList {
  data: Revision[];
  revision: number;
  current_revision: number | null;
  last_healthy_revision: number | null;
  next_before: number | null;
}

export interface DiffChange {
  path: string;
  kind: 'added' | 'removed' | 'changed';
  from: unknown;
  to: unknown;
}

export interface Diff {
  changes: DiffChange[];
  text: string;
}

export interface RevisionDiff extends Diff {
  from: number;
  to: number;
  security_notes: string[];
}

export interface FieldError {
  path: string;
  message: string;
}

export interface Deployment {
  revision: number;
  outcome: Outcome;
  detail: string | null;
  current_revision: number | null;
  state: InstanceState;
}

/** A dry run's answer, or a change that was made. */
export interface ChangeResult {
  valid: boolean;
  errors: FieldError[];
  base_revision: number;
  diff: Diff;
  security_notes: string[];
  revision?: Revision;
  deployment?: Deployment;
}

export interface Quota {
  used: number;
  limit: number;
}

export type CustomizationStatus = 'proposed' | 'refused' | 'deploying' | 'deployed' | 'failed' | 'cancelled';

export interface Customization {
  id: string;
  prompt: string;
  planner: string;
  status: CustomizationStatus;
  patch: unknown[];
  summary: string;
  security_notes: string[];
  base_revision: number;
  revision: number | null;
  result: string | null;
  author: string;
  created_at: string;
  updated_at: string;
  diff?: Diff;
  quota: Quota;
  /** Settings the patch changes that the instance does not act on yet. */
  not_active?: NotActiveSetting[];
}

/** A new revision (`POST .../revisions`): exactly one of `merge` (RFC 7396), `patch` (RFC 6902) or `config`. */
export interface RevisionChange {
  merge?: Record<string, unknown>;
  patch?: unknown[];
  config?: Record<string, unknown>;
  summary?: string;
  /** Only validate and answer the diff. */
  dry_run?: boolean;
  /** Deploy at once (without waiting); the dashboard deploys with `?wait=true` instead. */
  deploy?: boolean;
  source?: 'dashboard' | 'api';
}

export type Appearance = 'light' | 'dark' | 'auto';

/** The parts of an instance's configuration (instance/src/config.rs) that the settings page edits. */
export interface InstanceSettings {
  security?: { allowed_origins?: string[]; redirect_uris?: string[] };
  branding?: { primary_color?: string; logo_url?: string | null; appearance?: Appearance };
  organizations?: { permissions?: string[]; role_grants?: Partial<Record<BuiltinRole, string[]>> };
  mail?: { link_base_url?: string | null };
}

/** The built-in roles whose grants a configuration may extend (owners hold everything). */
export type BuiltinRole = 'admin' | 'member' | 'viewer';

/** How much of a plan limit is used; `limit` null = unlimited. */
export interface Meter {
  used: number;
  limit: number | null;
}

export interface OrganizationUsage {
  organization_id: string;
  name: string;
  members: number;
  pending_invitations: number;
}

export interface Usage {
  instance_id: string;
  environment: Environment;
  plan: string;
  measured_at: string;
  /** Every user of the instance, when the control plane tells. */
  users?: number;
  monthly_active_users: Meter;
  organizations: Meter;
  /** Largest first, at most 100. */
  members_per_organization: { limit: number | null; data: OrganizationUsage[] };
  /** 30 days, oldest first. */
  daily_active_users: { date: string; users: number }[];
}

export interface AuditEvent {
  id: string;
  at: string;
  account_id: string | null;
  /** `user:usr_…`, `stripe`, `system` or `operator`. */
  actor: string;
  action: string;
  target: string | null;
  detail: unknown;
}

export interface AuditPage {
  data: AuditEvent[];
  next_cursor: string | null;
}

export interface AuditFilters {
  /** A prefix: `revision.` or a whole action. */
  action?: string;
  /** Exact: `user:usr_…`, `stripe`, `system`, `operator`. */
  actor?: string;
  /** RFC 3339. */
  since?: string;
  until?: string;
}

/** A downloaded file. */
export interface Download {
  blob: Blob;
  filename: string;
}

/** `GET /v1/me`: who the platform token is. */
export interface Me {
  user_id: string;
  email: string;
  operator: boolean;
}

/** An instance as operators see it (`GET /v1/ops/instances`); `account_id` is null for the platform instance. */
export interface OpsInstance extends Instance {
  endpoint: string;
}
