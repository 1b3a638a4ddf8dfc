// Shapes of the control-plane API, named as the dashboard names them. Each is a schema of
// control-plane/openapi.json (generated/controlPlane.ts, `npm run generate`), so a change of the
// API reaches every page. Times are RFC 3339 strings.
import type { components } from './generated/controlPlane';

type Schemas = components['schemas'];

/** `GET /v1/platform`: the platform instance, its publishable key, the gateway, the SDK tarballs. */
export type Platform = Schemas['PlatformInfo'];

/** A configuration path (or a section of them) and whether the instance acts on it. */
export type SettingCapability = Schemas['Setting'];
/** A plan feature (`sso`, `custom_domain`) and whether the product delivers it yet. */
export type PlanFeatureCapability = Schemas['PlanFeature'];
/** `GET /v1/capabilities`: what the instances act on, so that no page claims more. */
export type Capabilities = Schemas['Capabilities'];
/** A setting a change touches that the instance records but does not act on yet. */
export type NotActiveSetting = Schemas['Setting'];

/** One mail the instance wrote to its outbox (under `authstack dev`). */
export type MailMessage = Schemas['MailMessage'];
export type Mailbox = Schemas['Mailbox'];
/** `GET /v1/dev/mailbox`: every instance's outbox; only under `authstack dev`. */
export type DevMailbox = Schemas['Mailboxes'];

export type PlanLimits = Schemas['PlanLimits'];
export type Plan = Schemas['Plan'];
export type Region = Schemas['RegionView'];
export type Subscription = Schemas['Subscription'];
export type Environment = Schemas['Environment'];
export type InstanceState = Schemas['InstanceState'];
export type Step = Schemas['Step'];
/** An instance; the instance list adds `gateway_url` and `steps`. */
export type Instance = Schemas['Instance'] & Partial<Pick<Schemas['InstanceView'], 'gateway_url' | 'steps'>>;
export type Account = Schemas['AccountView'];
/** An instance's custom domain: `pending` until its TXT record (`verification`) is verified, then `verified`. */
export type CustomDomain = Schemas['DomainView'];
export type SubscribeResponse = Schemas['SubscribeResponse'];

export type ApiKey = Schemas['ApiKey'];
/** The member who made a key. */
export type KeyCreator = Schemas['KeyCreator'];
/** A key just made: `secret` is the whole key, shown once. */
export type NewKey = Schemas['NewKey'];

export type ApplicationKind = Schemas['ApplicationKind'];
/** An application (OpenID Connect client) of an instance, with the instance's `issuer` and `discovery_url`; `id` is the client id. */
export type Application = Schemas['ApplicationView'];
/** `GET .../applications`: the instance's applications, its `issuer` and `discovery_url`. */
export type ApplicationList = Schemas['ApplicationList'];
/** An application just created or rotated: `client_secret` (web applications only) is shown once. */
export type ApplicationWithSecret = Schemas['ApplicationWithSecret'];
export type NewApplication = Schemas['CreateApplicationRequest'];
/** Whether an application's sign-ins ask users for one of their organizations. */
export type OrganizationSelection = Schemas['ApplicationOrganizationSelection'];

/** A webhook endpoint the instance's configuration lists, with its standing (`disabled_at`) and its secret's prefix. */
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookEndpointList = Schemas['WebhookEndpointList'];
/** One event's delivery to an endpoint: status, attempts, latency, the answer's first bytes. */
export type WebhookDelivery = Schemas['WebhookDelivery'];
export type WebhookDeliveryList = Schemas['WebhookDeliveryList'];
/** A rotated signing secret: `secret` is shown once. */
export type WebhookSecret = Schemas['WebhookSecret'];
export type WebhookTestQueued = Schemas['WebhookTestQueued'];
export type WebhookReplayed = Schemas['WebhookReplayed'];
/** An endpoint the account registered for the control plane's events about it (never its secret). */
export type AccountWebhook = Schemas['AccountWebhook'];
export type AccountWebhookList = Schemas['AccountWebhookList'];
export type AccountWebhookDeliveryList = Schemas['AccountWebhookDeliveryList'];
/** A new account endpoint and its signing secret, shown in this answer only. */
export type CreatedAccountWebhook = Schemas['CreatedAccountWebhook'];
export type NewAccountWebhook = Schemas['CreateAccountWebhookRequest'];

export type RevisionSource = Schemas['RevisionSource'];
export type Outcome = Schemas['Outcome'];
export type Revision = Schemas['RevisionView'];
export type RevisionList = Schemas['RevisionList'];
export type DiffChange = Schemas['FieldChange'];
export type Diff = Schemas['Diff'];
export type RevisionDiff = Schemas['DiffView'];
export type FieldError = Schemas['FieldError'];
export type Deployment = Schemas['Deployment'];
/** A dry run's answer, or a change that was made. */
export type ChangeResult = Schemas['ChangeView'];

export type Quota = Schemas['CustomizationQuota'];
export type CustomizationStatus = Schemas['CustomizationStatus'];
/** A customization as proposed, shown, modified, approved or cancelled (with its quota). */
export type Customization = Schemas['CustomizationView'];
/** `GET .../customizations`: the customizations (without diffs) and the month's quota. */
export type CustomizationList = Schemas['CustomizationList'];

/** A new revision (`POST .../revisions`): exactly one of `merge` (RFC 7396), `patch` (RFC 6902) or `config`. */
export type RevisionChange = Schemas['CreateRevisionRequest'];

/** How much of a plan limit is used; `limit` null = unlimited. */
export type Meter = Schemas['Meter'];
export type OrganizationUsage = Schemas['OrganizationMembers'];
export type Usage = Schemas['InstanceUsage'];

export type AuditEvent = Schemas['AuditEvent'];
export type AuditPage = Schemas['AuditPage'];

/** `GET /v1/me`: who the platform token is. */
export type Me = Schemas['Me'];
/** An instance as operators see it (`GET /v1/ops/instances`); `account_id` is null for the platform instance. */
export type OpsInstance = Schemas['OpsInstance'];

// Not control-plane schemas: the platform instance's answer, the settings page's view of an
// instance configuration, the audit page's filters and a downloaded file.

/** `POST /v1/invitations/lookup` on the platform instance: what an invitation token is for. */
export interface InvitationPreview {
  organization: { id: string; name: string; slug: string };
  role: string;
  email: string;
  expires_at: string;
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

/** The filters of `GET /v1/accounts/{id}/audit-logs` (query parameters, not a schema). */
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
