// A small typed client for the control-plane API, on the platform access token.
import type {
  Account,
  AccountWebhook,
  AccountWebhookDeliveryList,
  AccountWebhookList,
  CreatedAccountWebhook,
  ApiKey,
  ApplicationList,
  ApplicationWithSecret,
  AuditFilters,
  AuditPage,
  Capabilities,
  ChangeResult,
  Customization,
  CustomizationList,
  CustomDomain,
  Deployment,
  DevMailbox,
  Download,
  Environment,
  FieldError,
  Instance,
  Me,
  NewAccountWebhook,
  NewApplication,
  NewKey,
  OpsInstance,
  Plan,
  Platform,
  Region,
  Revision,
  RevisionDiff,
  RevisionChange,
  RevisionList,
  SubscribeResponse,
  Usage,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  WebhookReplayed,
  WebhookSecret,
  WebhookTestQueued,
} from './types';

/** A failed control-plane call, with the API's stable `code` and a sentence for people. */
export class ControlPlaneError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

const PLAIN: Record<string, string> = {
  unauthorized: 'Your session has ended. Sign in again.',
  forbidden: 'Your role in this account does not allow this. Ask an owner or admin.',
  not_found: 'This was not found. It may have been deleted, or it belongs to another account.',
  quota_exceeded: 'You have used all the customization prompts of your plan for this month.',
  reauthentication_required: 'This needs a recent sign-in: sign out, sign in again and try once more.',
  rate_limited: 'Too many requests. Wait a moment and try again.',
  unavailable: 'The service is unavailable right now. Try again in a moment.',
  instance_unavailable: 'The instance is not reachable right now. Try again in a moment.',
  internal_error: 'Something went wrong on our side. Try again; if it persists, contact support.',
  network: 'The AuthStack control plane could not be reached. Check your connection and try again.',
};

/** Plain words for any error a page shows: never raw JSON. */
export function explain(error: unknown): string {
  if (error instanceof ControlPlaneError) {
    if (['invalid_request', 'conflict', 'limit_exceeded', 'invalid_config'].includes(error.code) && error.message) {
      return sentence(error.message);
    }
    if (error.code === 'forbidden' && error.message) return `${PLAIN['forbidden']} (${error.message})`;
    return PLAIN[error.code] ?? (error.message ? sentence(error.message) : 'The request failed. Try again.');
  }
  return 'Something went wrong. Try again.';
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

export interface ControlPlaneOptions {
  /** Where the control plane is; `''` for the page's own origin. */
  baseUrl?: string;
  /** A fresh platform access token (the session's organization is the account). */
  getToken: () => Promise<string | null>;
  fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

export function createControlPlane(options: ControlPlaneOptions) {
  const base = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));

  async function send(method: string, path: string, init: { body?: unknown; raw?: string; query?: Query; accept?: string } = {}) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(init.query ?? {})) if (v !== undefined && v !== '') params.set(k, String(v));
    const url = `${base}${path}${params.size ? `?${params}` : ''}`;
    const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
    const token = await options.getToken();
    if (token) headers['authorization'] = `Bearer ${token}`;
    let body: string | undefined;
    if (init.raw !== undefined) {
      headers['content-type'] = 'application/yaml';
      body = init.raw;
    } else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let response: Response;
    try {
      response = await doFetch(url, { method, headers, body });
    } catch {
      throw new ControlPlaneError(0, 'network', '');
    }
    if (!response.ok) {
      let code = 'internal_error';
      let message = '';
      let errors: FieldError[] = [];
      try {
        const b = (await response.json()) as { error?: string; message?: string; errors?: FieldError[] };
        code = b.error ?? code;
        message = b.message ?? '';
        errors = Array.isArray(b.errors) ? b.errors : [];
      } catch {
        code = response.status >= 500 ? 'unavailable' : 'internal_error';
      }
      throw new ControlPlaneError(response.status, code, message, errors);
    }
    return response;
  }

  async function json<T>(method: string, path: string, init?: { body?: unknown; raw?: string; query?: Query }): Promise<T> {
    const response = await send(method, path, init);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  /** A file answer (`Content-Disposition: attachment`): fetched with the token, since a plain link cannot carry it. */
  async function download(path: string, query: Query, accept: string, fallbackName: string): Promise<Download> {
    const response = await send('GET', path, { query, accept });
    return { blob: await response.blob(), filename: attachmentName(response.headers.get('content-disposition')) ?? fallbackName };
  }

  const acc = (id: string) => `/v1/accounts/${encodeURIComponent(id)}`;
  const inst = (id: string, env: Environment) => `${acc(id)}/instances/${env}`;

  return {
    platform: () => json<Platform>('GET', '/v1/platform'),
    /** Which settings and plan features the instances act on (no sign-in needed). */
    capabilities: () => json<Capabilities>('GET', '/v1/capabilities'),
    /** The instances' outboxes; `404 not_found` unless the control plane runs as `authstack dev`. */
    devMailbox: () => json<DevMailbox>('GET', '/v1/dev/mailbox'),
    /** Who the platform token is, and whether to offer the Ops page. */
    me: () => json<Me>('GET', '/v1/me'),
    plans: async () => (await json<{ data: Plan[] }>('GET', '/v1/plans')).data,
    regions: async () => (await json<{ data: Region[] }>('GET', '/v1/regions')).data,
    accounts: {
      create: (name: string) => json<Account>('POST', '/v1/accounts', { body: { name } }),
      /** The accounts of the session's organization. */
      mine: async () => (await json<{ data: Account[] }>('GET', '/v1/accounts')).data,
      get: (id: string) => json<Account>('GET', acc(id)),
      subscribe: (id: string, plan: string, region: string) =>
        json<SubscribeResponse>('POST', `${acc(id)}/subscription`, { body: { plan, region } }),
      instances: async (id: string) => (await json<{ data: Instance[] }>('GET', `${acc(id)}/instances`)).data,
    },
    keys: {
      list: async (id: string) => (await json<{ data: ApiKey[] }>('GET', `${acc(id)}/keys`)).data,
      create: (id: string, params: { name: string; environment: Environment; kind: 'publishable' | 'secret' }) =>
        json<NewKey>('POST', `${acc(id)}/keys`, { body: params }),
      rotate: (id: string, keyId: string, gracePeriodSecs: number) =>
        json<NewKey>('POST', `${acc(id)}/keys/${encodeURIComponent(keyId)}/rotate`, {
          body: { grace_period_secs: gracePeriodSecs },
        }),
      revoke: (id: string, keyId: string) => json<void>('DELETE', `${acc(id)}/keys/${encodeURIComponent(keyId)}`),
    },
    applications: {
      /** The instance's applications, with its issuer and discovery URL. */
      list: (id: string, env: Environment) => json<ApplicationList>('GET', `${inst(id, env)}/applications`),
      /** A web application's `client_secret` is in this answer only; the instance's refusals name the field (`redirect_uris[2]: …`). */
      create: (id: string, env: Environment, params: NewApplication) =>
        json<ApplicationWithSecret>('POST', `${inst(id, env)}/applications`, { body: params }),
      /** A new secret for a web application; the old one keeps working for `graceSecs` (0: it stops at once). */
      rotateSecret: (id: string, env: Environment, appId: string, graceSecs = 0) =>
        json<ApplicationWithSecret>('POST', `${inst(id, env)}/applications/${encodeURIComponent(appId)}/rotate-secret`, {
          body: { grace_period_secs: graceSecs },
        }),
      remove: (id: string, env: Environment, appId: string) =>
        json<void>('DELETE', `${inst(id, env)}/applications/${encodeURIComponent(appId)}`),
    },
    webhooks: {
      /** The endpoints the instance's configuration lists (added and removed by revisions). */
      list: (id: string, env: Environment) => json<WebhookEndpointList>('GET', `${inst(id, env)}/webhooks`),
      deliveries: (id: string, env: Environment, webhookId: string, limit = 50) =>
        json<WebhookDeliveryList>('GET', `${inst(id, env)}/webhooks/${encodeURIComponent(webhookId)}/deliveries`, {
          query: { limit },
        }),
      /** A new signing secret, in this answer only (may need a recent sign-in). */
      rotateSecret: (id: string, env: Environment, webhookId: string) =>
        json<WebhookSecret>('POST', `${inst(id, env)}/webhooks/${encodeURIComponent(webhookId)}/rotate-secret`),
      /** Queues a `webhook.test` event for this endpoint alone. */
      test: (id: string, env: Environment, webhookId: string) =>
        json<WebhookTestQueued>('POST', `${inst(id, env)}/webhooks/${encodeURIComponent(webhookId)}/test`),
      /** Enables an endpoint the instance disabled after a day of failures. */
      enable: (id: string, env: Environment, webhookId: string) =>
        json<WebhookEndpoint>('POST', `${inst(id, env)}/webhooks/${encodeURIComponent(webhookId)}/enable`),
      replay: (id: string, env: Environment, eventId: string) =>
        json<WebhookReplayed>('POST', `${inst(id, env)}/webhooks/deliveries/${encodeURIComponent(eventId)}/replay`),
    },
    accountWebhooks: {
      /** The endpoints the account registered for the control plane's own events about it. */
      list: (id: string) => json<AccountWebhookList>('GET', `${acc(id)}/webhooks`),
      /** Registers one; its signing secret is in this answer only (may need a recent sign-in). */
      create: (id: string, params: NewAccountWebhook) =>
        json<CreatedAccountWebhook>('POST', `${acc(id)}/webhooks`, { body: params }),
      remove: (id: string, endpointId: string) =>
        json<void>('DELETE', `${acc(id)}/webhooks/${encodeURIComponent(endpointId)}`),
      deliveries: (id: string, endpointId: string, limit = 50) =>
        json<AccountWebhookDeliveryList>('GET', `${acc(id)}/webhooks/${encodeURIComponent(endpointId)}/deliveries`, {
          query: { limit },
        }),
      /** A new signing secret, in this answer only; the previous one signs for 24 hours more. */
      rotateSecret: (id: string, endpointId: string) =>
        json<WebhookSecret>('POST', `${acc(id)}/webhooks/${encodeURIComponent(endpointId)}/rotate-secret`),
      test: (id: string, endpointId: string) =>
        json<WebhookTestQueued>('POST', `${acc(id)}/webhooks/${encodeURIComponent(endpointId)}/test`),
      enable: (id: string, endpointId: string) =>
        json<AccountWebhook>('POST', `${acc(id)}/webhooks/${encodeURIComponent(endpointId)}/enable`),
      replay: (id: string, eventId: string) =>
        json<WebhookReplayed>('POST', `${acc(id)}/webhooks/deliveries/${encodeURIComponent(eventId)}/replay`),
    },
    instances: {
      /** Replaces the allowed origins; the gateway takes them at once (a new wanted revision records them). */
      setAllowedOrigins: (id: string, env: Environment, origins: string[]) =>
        json<Instance>('PUT', `${inst(id, env)}/allowed-origins`, { body: { allowed_origins: origins } }),
      usage: (id: string, env: Environment) => json<Usage>('GET', `${inst(id, env)}/usage`),
    },
    domains: {
      /** The instance's custom domain; `404 not_found` when it has none. */
      get: (id: string, env: Environment) => json<CustomDomain>('GET', `${inst(id, env)}/domain`),
      /** Sets it, pending until verified; `403 plan_feature` on a plan without custom domains, `409 domain_taken`. */
      set: (id: string, env: Environment, domain: string) =>
        json<CustomDomain>('PUT', `${inst(id, env)}/domain`, { body: { domain } }),
      /** Looks up its TXT record; `409 domain_not_verified` names the record to create. */
      verify: (id: string, env: Environment) => json<CustomDomain>('POST', `${inst(id, env)}/domain/verify`),
      remove: (id: string, env: Environment) => json<void>('DELETE', `${inst(id, env)}/domain`),
    },
    revisions: {
      /** A dry run answers the diff (`valid: false` with `errors` when invalid); otherwise `422 invalid_config` when invalid. */
      create: (id: string, env: Environment, change: RevisionChange) =>
        json<ChangeResult>('POST', `${inst(id, env)}/revisions`, { body: change }),
      list: (id: string, env: Environment, before?: number, limit = 50) =>
        json<RevisionList>('GET', `${inst(id, env)}/revisions`, { query: { before, limit } }),
      get: (id: string, env: Environment, n: number) => json<Revision>('GET', `${inst(id, env)}/revisions/${n}`),
      diff: (id: string, env: Environment, from: number, to: number) =>
        json<RevisionDiff>('GET', `${inst(id, env)}/revisions/diff`, { query: { from, to } }),
      deploy: (id: string, env: Environment, n: number) =>
        json<Deployment>('POST', `${inst(id, env)}/revisions/${n}/deploy`, { query: { wait: true } }),
      rollback: (id: string, env: Environment, revision?: number) =>
        json<Deployment>('POST', `${inst(id, env)}/rollback`, {
          query: { wait: true },
          body: revision === undefined ? {} : { revision },
        }),
      exportYaml: async (id: string, env: Environment, n: number) =>
        (await send('GET', `${inst(id, env)}/revisions/${n}/export`, { query: { format: 'yaml' } })).text(),
      importYaml: (id: string, env: Environment, yaml: string, opts: { dryRun: boolean; deploy?: boolean; summary?: string }) =>
        json<ChangeResult>('POST', `${inst(id, env)}/revisions/import`, {
          raw: yaml,
          query: { dry_run: opts.dryRun, deploy: opts.deploy, summary: opts.summary || undefined },
        }),
      promote: (id: string, dryRun: boolean) =>
        json<ChangeResult>('POST', `${inst(id, 'live')}/promote`, { body: { dry_run: dryRun } }),
    },
    audit: {
      list: (id: string, filters: AuditFilters, cursor?: string, limit = 50) =>
        json<AuditPage>('GET', `${acc(id)}/audit-logs`, { query: { ...filters, cursor, limit } }),
      export: (id: string, filters: AuditFilters, format: 'csv' | 'json') =>
        download(
          `${acc(id)}/audit-logs`,
          { ...filters, format },
          format === 'csv' ? 'text/csv' : 'application/json',
          `authstack-audit-log.${format}`,
        ),
    },
    ops: {
      instances: async () => (await json<{ data: OpsInstance[] }>('GET', '/v1/ops/instances')).data,
      reconcile: (instanceId: string) => json<Instance>('POST', `/v1/ops/instances/${encodeURIComponent(instanceId)}/reconcile`),
    },
    customizations: {
      list: (id: string, env: Environment) =>
        json<CustomizationList>('GET', `${inst(id, env)}/customizations`),
      propose: (id: string, env: Environment, prompt: string) =>
        json<Customization>('POST', `${inst(id, env)}/customizations`, { body: { prompt } }),
      modify: (id: string, env: Environment, cid: string, prompt: string) =>
        json<Customization>('POST', `${inst(id, env)}/customizations/${encodeURIComponent(cid)}/modify`, { body: { prompt } }),
      approve: (id: string, env: Environment, cid: string) =>
        json<Customization>('POST', `${inst(id, env)}/customizations/${encodeURIComponent(cid)}/approve`),
      cancel: (id: string, env: Environment, cid: string) =>
        json<Customization>('POST', `${inst(id, env)}/customizations/${encodeURIComponent(cid)}/cancel`),
    },
  };
}

export type ControlPlane = ReturnType<typeof createControlPlane>;

/** The file name of `Content-Disposition: attachment; filename="…"` (or `filename*=UTF-8''…`). */
export function attachmentName(header: string | null): string | null {
  if (!header) return null;
  const extended = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (extended?.[1]) {
    try {
      return safeName(decodeURIComponent(extended[1].trim()));
    } catch {
      // fall through to the plain name
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/.exec(header);
  const name = plain?.[1] ?? plain?.[2];
  return name ? safeName(name) : null;
}

/** No directories in a download's name. */
function safeName(name: string): string | null {
  const base = name.split(/[\\/]/).pop()?.trim() ?? '';
  return base && base !== '.' && base !== '..' ? base : null;
}
