// The state and the machinery of the fake instance (fake-instance.ts registers its routes): its
// users, sessions, organizations and outbox, the fetch that records every request and lets a
// test replace an answer, the route table, tokens and the API's views of the state.
import { BUILTIN_PERMISSIONS, BUILTIN_ROLE_DEFINITIONS } from '../packages/client/src/generated/builtins';
import {
  type Answered,
  type Answers,
  type PathParams,
  type RequestBody,
  type Route,
  type RouteAnswering,
  type Schemas,
  answered,
  answers,
  matchTemplate,
} from './instance-routes';

/** The password `FakeInstance.withAda()` gives Ada, and the one tests sign in with. */
export const PASSWORD = 'correct horse battery';

/** Every timestamp the fake shows. */
export const NOW = '2026-01-02T03:04:05Z';

/** The built-in roles, as generated from the instance; the owner holds the whole catalogue. */
export const BUILTIN_ROLES: Record<string, { name: string; description: string; permissions: string[] }> = Object.fromEntries(
  Object.entries(BUILTIN_ROLE_DEFINITIONS).map(([key, role]) => [
    key,
    { name: role.name, description: role.description, permissions: key === 'owner' ? [...BUILTIN_PERMISSIONS] : [...role.permissions] },
  ]),
);

/** A user as the fake keeps them (the password in the clear: nothing here is real). */
export interface FakeUser {
  id: string;
  email: string;
  name: string | null;
  password: string;
  verified: boolean;
}

/** A session: its refresh-token family and the organization it works in. */
export interface FakeSession {
  sid: string;
  userId: string;
  /** The refresh token that works now; every earlier one is in `spent`. */
  refresh: string;
  spent: Set<string>;
  revoked: boolean;
  orgId: string | null;
}

/** A role an organization defined. */
export interface CustomRole {
  id: string;
  key: string;
  name: string;
  description: string | null;
  permissions: string[];
}

/** An organization with everything in it. */
export interface FakeOrg {
  id: string;
  name: string;
  slug: string;
  logo_url: string | null;
  /** Role key by user id. */
  members: Map<string, string>;
  roles: CustomRole[];
  invitations: { id: string; email: string; role: string; token: string; open: boolean }[];
  apiKeys: { id: string; name: string; key: string; permissions: string[]; created_by: string; revoked: boolean }[];
}

/** A request as the fake received it; `body` is the parsed JSON or form body, as the client sent it. */
export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: any;
}

export interface FakeOptions {
  /** Access-token lifetime (default 300 s). */
  ttlSeconds?: number;
  /** Delay of each refresh answer, so concurrent callers pile up. */
  refreshDelayMs?: number;
  /** Whether sign-up waits for the email link (default true). */
  requireEmailVerification?: boolean;
}

/** Ada as the API shows her in a `FakeInstance.withAda()` instance. */
export const USER: Schemas['UserView'] = {
  id: 'usr_1',
  email: 'ada@example.com',
  email_verified: true,
  name: 'Ada',
  metadata: {},
  has_password: true,
  created_at: NOW,
  updated_at: NOW,
};

/** Acme as the API shows it in a `FakeInstance.withAda()` instance. */
export const ORG: Schemas['OrganizationView'] = {
  id: 'org_1',
  name: 'Acme',
  slug: 'acme',
  logo_url: null,
  branding: {},
  settings: {},
  created_at: NOW,
  updated_at: NOW,
};

/** A JSON answer, for tests that replace the fake's own (`routes`, `failNext`). */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * A request to `R` as its handler sees it: the body and path parameters typed from the route, and
 * the answers it documents (`reply`, `fail`).
 */
export type FakeRequest<R extends Route> = Omit<Recorded, 'body'> & { body: RequestBody<R>; params: PathParams<R> } & Answers<R>;

/** The signed-in caller. */
export interface Caller {
  session: FakeSession;
  user: FakeUser;
}

/** A member of the organization a request names, with the instance's two authorization checks. */
export interface Member extends Caller {
  org: FakeOrg;
  role: string;
  /** The 403 of a caller without `permission`, or null. */
  need: (permission: string) => Answered | null;
  /** The 403 of a caller granting `permissions` they do not hold themselves ("you cannot `what`"), or null. */
  mayGrant: (permissions: readonly string[], what: string) => Answered | null;
}

type Handler<R extends Route, Extra extends unknown[] = []> = (req: FakeRequest<R>, ...extra: Extra) => Answered | Promise<Answered>;
type Erased = (req: Recorded & { params: Record<string, string> }) => Promise<Answered>;

// Every route these guard documents the status (see `onSignedIn`, `onMember`).
const UNAUTHORIZED = answers.fail(401, 'unauthorized', 'the access token is invalid or expired');
const NOT_FOUND = answers.fail(404, 'not_found', 'organization not found');

function encode(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The fake's state and machinery, without routes: `FakeInstance` adds them. */
export class FakeInstanceCore {
  readonly requests: Recorded[] = [];
  /** By email. */
  readonly users = new Map<string, FakeUser>();
  /** By session id. */
  readonly sessions = new Map<string, FakeSession>();
  /** By organization id. */
  readonly orgs = new Map<string, FakeOrg>();
  /** Mail "sent": the tokens of verification, reset and invitation links. */
  readonly outbox: { kind: string; to: string; token: string }[] = [];
  /** Set to make fetches fail, as without a network, after they are recorded. */
  offline = false;
  /** Answers replacing the fake's for an exact `METHOD /path` (as sent, encoded), every time. */
  readonly routes = new Map<string, (req: Recorded) => Response | Promise<Response>>();
  readonly options: Required<FakeOptions>;
  private readonly overrides: { method: string; path: RegExp; respond: (req: Recorded) => Response | Promise<Response> }[] = [];
  private readonly table: { method: string; template: string; handle: Erased }[] = [];
  private readonly counters = new Map<string, number>();

  constructor(options: FakeOptions = {}) {
    this.options = { ttlSeconds: 300, refreshDelayMs: 0, requireEmailVerification: true, ...options };
  }

  /** The next request to `method` on a path matching `path` gets `respond()`'s answer. */
  failNext(method: string, path: RegExp, respond: (req: Recorded) => Response | Promise<Response>) {
    this.overrides.push({ method, path, respond });
  }

  /** How many recorded requests went to `method` on `path` (exact, or matching). */
  count(method: string, path: string | RegExp): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path))).length;
  }

  /** A new id with `prefix`, numbered per prefix from 1 (`usr_1`, `org_1`, `ses_1`, …). */
  protected id(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}_${n}`;
  }

  /** A user who can sign in with `password` (verified unless told otherwise). */
  addUser(email: string, password = PASSWORD, name: string | null = null, verified = true): FakeUser {
    const user = { id: this.id('usr'), email, name, password, verified };
    this.users.set(email, user);
    return user;
  }

  /** An organization whose members are `{ email: role }` of existing users. */
  addOrg(name: string, members: Record<string, string>, slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-')): FakeOrg {
    const org: FakeOrg = { id: this.id('org'), name, slug, logo_url: null, members: new Map(), roles: [], invitations: [], apiKeys: [] };
    for (const [email, role] of Object.entries(members)) org.members.set(this.users.get(email)!.id, role);
    this.orgs.set(org.id, org);
    return org;
  }

  /** The user with id `id`. */
  userById(id: string): FakeUser | undefined {
    return [...this.users.values()].find((u) => u.id === id);
  }

  /** What a role grants in `org`: a built-in role's table entry or the custom role's list. */
  permissionsOf(org: FakeOrg, role: string): string[] {
    return BUILTIN_ROLES[role]?.permissions ?? org.roles.find((r) => r.key === role)?.permissions ?? [];
  }

  /** The user as the API shows them (`UserView`). */
  userView(user: FakeUser): Schemas['UserView'] {
    return {
      id: user.id,
      email: user.email,
      email_verified: user.verified,
      name: user.name,
      metadata: {},
      has_password: true,
      created_at: NOW,
      updated_at: NOW,
    };
  }

  /** The organization as the API shows it (`OrganizationView`). */
  orgView(org: FakeOrg): Schemas['OrganizationView'] {
    return { id: org.id, name: org.name, slug: org.slug, logo_url: org.logo_url, branding: {}, settings: {}, created_at: NOW, updated_at: NOW };
  }

  /** The organization with `userId`'s role and permissions in it (`OrganizationWithRole`). */
  withRole(org: FakeOrg, userId: string): Schemas['OrganizationWithRole'] {
    const role = org.members.get(userId)!;
    return { ...this.orgView(org), role, permissions: this.permissionsOf(org, role) };
  }

  /** An access token of `session` with the instance's claims (unsigned: the client only decodes it). */
  accessToken(session: FakeSession, ttl = this.options.ttlSeconds): string {
    const user = this.userById(session.userId)!;
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: 'http://gateway.test',
      aud: 'ins_test',
      sub: user.id,
      sid: session.sid,
      iat: now,
      exp: now + ttl,
      jti: this.id('jti'),
      amr: ['pwd'],
      email: user.email,
      email_verified: user.verified,
    };
    const org = session.orgId ? this.orgs.get(session.orgId) : undefined;
    const role = org?.members.get(user.id);
    if (org && role) Object.assign(claims, { org_id: org.id, org_slug: org.slug, org_role: role, permissions: this.permissionsOf(org, role) });
    return `${encode({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${encode(claims)}.c2ln`;
  }

  /** Starts a session for `email` as the instance would; returns its TokenResponse. */
  startSession(email: string, orgId: string | null = null): Schemas['TokenResponse'] {
    const user = this.users.get(email)!;
    const session: FakeSession = { sid: this.id('ses'), userId: user.id, refresh: this.refreshToken(), spent: new Set(), revoked: false, orgId };
    this.sessions.set(session.sid, session);
    return this.tokens(session);
  }

  /** The instance's HTTP API, to pass as the client's `fetch`. */
  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(
      Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const raw = init?.body as string | undefined;
    const body =
      raw === undefined || raw === ''
        ? undefined
        : headers['content-type'] === 'application/x-www-form-urlencoded'
          ? Object.fromEntries(new URLSearchParams(raw))
          : JSON.parse(raw);
    const req: Recorded = { method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body };
    this.requests.push(req);
    if (this.offline) throw new TypeError('fetch failed');
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const override = this.overrides.findIndex((o) => o.method === req.method && o.path.test(req.path));
    if (override >= 0) return this.overrides.splice(override, 1)[0]!.respond(req);
    const custom = this.routes.get(`${req.method} ${req.path}`);
    if (custom) return custom(req);
    return this.answer(req);
  };

  /** Registers the fake's answer to `route`. */
  protected on<R extends Route>(route: R, handle: Handler<R>): void {
    const [method, template] = route.split(' ') as [string, string];
    this.table.push({ method, template, handle: async (req) => handle({ ...req, ...answers } as unknown as FakeRequest<R>) });
  }

  /** Registers the answer to `route` for a signed-in caller; anyone else gets the instance's 401. */
  protected onSignedIn<R extends RouteAnswering<401>>(route: R, handle: Handler<R, [Caller]>): void {
    this.on(route, (req) => {
      const caller = this.caller(req);
      return caller ? handle(req, caller) : UNAUTHORIZED;
    });
  }

  /**
   * Registers the answer to an organization's `route` (`/v1/organizations/{id}/…`) for one of its
   * members; a caller who is not one gets the instance's 404, a signed-out one its 401, and one
   * lacking a permission `need` or `mayGrant` ask for its 403.
   */
  protected onMember<R extends RouteAnswering<401> & RouteAnswering<403> & RouteAnswering<404>>(
    route: R,
    handle: Handler<R, [Member]>,
  ): void {
    this.onSignedIn(route, (req, caller) => {
      const org = this.orgs.get((req.params as { id: string }).id);
      const role = org?.members.get(caller.user.id);
      if (!org || !role) return NOT_FOUND;
      const mine = this.permissionsOf(org, role);
      const forbidden = (message: string) => answers.fail(403, 'forbidden', message);
      const need = (permission: string) => (mine.includes(permission) ? null : forbidden(`this needs the permission ${permission}`));
      const mayGrant = (permissions: readonly string[], what: string) => {
        const lacking = permissions.filter((p) => !mine.includes(p));
        return lacking.length === 0 ? null : forbidden(`you cannot ${what}: it includes permissions you do not hold (${lacking.join(', ')})`);
      };
      return handle(req, { ...caller, org, role, need, mayGrant });
    });
  }

  /** The session a request's bearer token belongs to, when it is valid. */
  caller(req: Pick<Recorded, 'headers'>): Caller | null {
    const token = req.headers['authorization']?.replace(/^Bearer /, '');
    let claims: { sid?: string; exp?: number };
    try {
      claims = JSON.parse(atob((token?.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/')));
    } catch {
      return null;
    }
    const session = claims.sid ? this.sessions.get(claims.sid) : undefined;
    if (!session || session.revoked || (claims.exp ?? 0) <= Date.now() / 1000) return null;
    return { session, user: this.userById(session.userId)! };
  }

  private async answer(req: Recorded): Promise<Response> {
    for (const route of this.table) {
      const params = route.method === req.method ? matchTemplate(route.template, req.path) : null;
      if (!params) continue;
      const { status, body } = await route.handle({ ...req, params });
      return body === undefined ? new Response(null, { status }) : json(status, body);
    }
    return json(404, { error: 'not_found', message: `no fake route for ${req.method} ${req.path}` });
  }

  protected refreshToken(): string {
    // Random too: a token of one test's instance must not be valid in the next one's.
    return `${this.id('rt')}_${Math.random().toString(36).slice(2)}`;
  }

  protected tokens(session: FakeSession): Schemas['TokenResponse'] {
    return {
      user: this.userView(this.userById(session.userId)!),
      access_token: this.accessToken(session),
      refresh_token: session.refresh,
      token_type: 'Bearer',
      expires_in: this.options.ttlSeconds,
    };
  }

}
