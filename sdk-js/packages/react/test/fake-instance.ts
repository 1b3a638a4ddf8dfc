// A stateful stand-in for an AuthStack instance behind the gateway, answering the client's
// fetches with the instance's shapes and rules: users and email verification, sessions with
// rotating refresh tokens, access tokens carrying the organization claims, organizations,
// members, invitations, built-in and custom roles and organization API keys with the "cannot
// grant what you do not hold" guardrail. Components are tested through the real @authstack/client over this fetch.
import { BUILTIN_PERMISSIONS as GENERATED_PERMISSIONS, BUILTIN_ROLE_DEFINITIONS } from '@authstack/client';

// The instance's built-in permissions and roles, as generated from it for the client SDK. The
// owner holds the whole catalogue (its generated list is empty: it is not a fixed set).
const BUILTIN_PERMISSIONS: string[] = [...GENERATED_PERMISSIONS];
const BUILTIN_ROLES: Record<string, { name: string; description: string; permissions: string[] }> = Object.fromEntries(
  Object.entries(BUILTIN_ROLE_DEFINITIONS).map(([key, role]) => [
    key,
    {
      name: role.name,
      description: role.description,
      permissions: key === 'owner' ? BUILTIN_PERMISSIONS : [...role.permissions],
    },
  ]),
);

const NOW = '2026-01-02T03:04:05Z';

interface FakeUser {
  id: string;
  email: string;
  name: string | null;
  password: string;
  verified: boolean;
}

interface FakeSession {
  sid: string;
  userId: string;
  refresh: string;
  spent: Set<string>;
  revoked: boolean;
  orgId: string | null;
}

interface CustomRole {
  id: string;
  key: string;
  name: string;
  description: string | null;
  permissions: string[];
}

export interface FakeOrg {
  id: string;
  name: string;
  slug: string;
  logo_url: string | null;
  members: Map<string, string>;
  roles: CustomRole[];
  invitations: { id: string; email: string; role: string; token: string; open: boolean }[];
  apiKeys: { id: string; name: string; key: string; permissions: string[]; created_by: string; revoked: boolean }[];
}

export interface Recorded {
  method: string;
  path: string;
  body: any;
  headers: Record<string, string>;
}

export interface FakeOptions {
  /** Access-token lifetime (default 300 s). */
  ttlSeconds?: number;
  /** Delay of each refresh answer, so concurrent callers pile up. */
  refreshDelayMs?: number;
  requireEmailVerification?: boolean;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

const error = (status: number, code: string, message: string) => json(status, { error: code, message });

function encode(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class FakeInstance {
  readonly requests: Recorded[] = [];
  readonly users = new Map<string, FakeUser>();
  readonly sessions = new Map<string, FakeSession>();
  readonly orgs = new Map<string, FakeOrg>();
  /** Mail "sent": the tokens of verification, reset and invitation links. */
  readonly outbox: { kind: string; to: string; token: string }[] = [];
  /** Answers to force, by `METHOD /path` (regex source), used once each. */
  private readonly overrides: { method: string; path: RegExp; respond: () => Response | Promise<Response> }[] = [];
  private counter = 0;
  private readonly options: Required<FakeOptions>;

  constructor(options: FakeOptions = {}) {
    this.options = { ttlSeconds: 300, refreshDelayMs: 0, requireEmailVerification: true, ...options };
  }

  /** The next request to `method` on a path matching `path` gets `respond()`'s answer. */
  failNext(method: string, path: RegExp, respond: () => Response | Promise<Response>) {
    this.overrides.push({ method, path, respond });
  }

  count(method: string, path: string | RegExp): number {
    return this.requests.filter((r) => r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)))
      .length;
  }

  private id(prefix: string) {
    return `${prefix}_${++this.counter}`;
  }

  addUser(email: string, password = 'correct horse battery', name: string | null = null, verified = true): FakeUser {
    const user = { id: this.id('usr'), email, name, password, verified };
    this.users.set(email, user);
    return user;
  }

  addOrg(name: string, members: Record<string, string>, slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-')): FakeOrg {
    const org: FakeOrg = { id: this.id('org'), name, slug, logo_url: null, members: new Map(), roles: [], invitations: [], apiKeys: [] };
    for (const [email, role] of Object.entries(members)) org.members.set(this.users.get(email)!.id, role);
    this.orgs.set(org.id, org);
    return org;
  }

  userView(user: FakeUser) {
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

  private orgView(org: FakeOrg) {
    return { id: org.id, name: org.name, slug: org.slug, logo_url: org.logo_url, branding: {}, settings: {}, created_at: NOW, updated_at: NOW };
  }

  private permissionsOf(org: FakeOrg, role: string): string[] {
    return BUILTIN_ROLES[role]?.permissions ?? org.roles.find((r) => r.key === role)?.permissions ?? [];
  }

  private withRole(org: FakeOrg, userId: string) {
    const role = org.members.get(userId)!;
    return { ...this.orgView(org), role, permissions: this.permissionsOf(org, role) };
  }

  accessToken(session: FakeSession, ttl = this.options.ttlSeconds): string {
    const user = [...this.users.values()].find((u) => u.id === session.userId)!;
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
    if (org && org.members.has(user.id)) {
      const role = org.members.get(user.id)!;
      Object.assign(claims, { org_id: org.id, org_slug: org.slug, org_role: role, permissions: this.permissionsOf(org, role) });
    }
    return `${encode({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${encode(claims)}.c2ln`;
  }

  /** Starts a session for `email` as the instance would; returns its TokenResponse. */
  startSession(email: string, orgId: string | null = null) {
    const user = this.users.get(email)!;
    const session: FakeSession = { sid: this.id('ses'), userId: user.id, refresh: this.id('rt'), spent: new Set(), revoked: false, orgId };
    this.sessions.set(session.sid, session);
    return this.tokens(session);
  }

  private tokens(session: FakeSession) {
    const user = [...this.users.values()].find((u) => u.id === session.userId)!;
    return {
      user: this.userView(user),
      access_token: this.accessToken(session),
      refresh_token: session.refresh,
      token_type: 'Bearer',
      expires_in: this.options.ttlSeconds,
    };
  }

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
    const req: Recorded = { method: init?.method ?? 'GET', path: url.pathname, body, headers };
    this.requests.push(req);
    const override = this.overrides.findIndex((o) => o.method === req.method && o.path.test(req.path));
    if (override >= 0) {
      const { respond } = this.overrides.splice(override, 1)[0]!;
      return respond();
    }
    return this.answer(req, url);
  };

  private session(req: Recorded): { session: FakeSession; user: FakeUser } | null {
    const token = req.headers['authorization']?.replace(/^Bearer /, '');
    if (!token) return null;
    const claims = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { sid: string; exp: number };
    const session = this.sessions.get(claims.sid);
    if (!session || session.revoked || claims.exp <= Date.now() / 1000) return null;
    const user = [...this.users.values()].find((u) => u.id === session.userId)!;
    return { session, user };
  }

  private async answer(req: Recorded, url: URL): Promise<Response> {
    const { method, path, body } = req;
    if (method === 'POST' && path === '/v1/auth/signup') {
      if (String(body.password).length < 8) return error(400, 'weak_password', 'password must be at least 8 characters');
      const exists = this.users.has(body.email);
      if (!exists) {
        const user = this.addUser(body.email, body.password, body.name ?? null, !this.options.requireEmailVerification);
        if (this.options.requireEmailVerification) this.outbox.push({ kind: 'verify_email', to: user.email, token: this.id('evt') });
      }
      if (this.options.requireEmailVerification) {
        return json(202, { status: 'verification_required', message: 'Check your inbox for a link to finish signing up.' });
      }
      if (exists) return error(409, 'conflict', 'an account with this email already exists');
      return json(201, this.startSession(body.email));
    }
    if (method === 'POST' && path === '/v1/auth/login') {
      const user = this.users.get(body.email);
      if (!user || user.password !== body.password) return error(401, 'invalid_credentials', 'the email or password is incorrect');
      if (!user.verified) return error(403, 'email_not_verified', 'the email address has not been verified yet');
      return json(200, this.startSession(user.email, body.org_id ?? null));
    }
    if (method === 'POST' && path === '/v1/auth/email/verify') {
      const mail = this.outbox.find((m) => m.kind === 'verify_email' && m.token === body.token);
      if (!mail) return error(400, 'invalid_grant', 'the verification link is invalid, used or expired');
      mail.token = 'spent';
      const user = this.users.get(mail.to)!;
      user.verified = true;
      return json(200, this.startSession(user.email));
    }
    if (method === 'POST' && path === '/v1/auth/email/verify/resend') {
      const user = this.users.get(body.email);
      if (user && !user.verified) this.outbox.push({ kind: 'verify_email', to: user.email, token: this.id('evt') });
      return json(202, { status: 'ok', message: 'If this address awaits verification, a new link is on its way.' });
    }
    if (method === 'POST' && path === '/v1/auth/password/forgot') {
      if (this.users.has(body.email)) this.outbox.push({ kind: 'password_reset', to: body.email, token: this.id('prt') });
      return json(202, { status: 'ok', message: 'If an account exists for this address, a reset link is on its way.' });
    }
    if (method === 'POST' && path === '/v1/auth/password/reset') {
      const mail = this.outbox.find((m) => m.kind === 'password_reset' && m.token === body.token);
      if (!mail) return error(400, 'invalid_grant', 'the reset link is invalid, used or expired');
      mail.token = 'spent';
      this.users.get(mail.to)!.password = body.password;
      return json(200, { status: 'password_reset' });
    }
    if (method === 'POST' && path === '/v1/auth/refresh') {
      if (this.options.refreshDelayMs) await new Promise((r) => setTimeout(r, this.options.refreshDelayMs));
      for (const session of this.sessions.values()) {
        if (session.spent.has(body.refresh_token)) {
          session.revoked = true;
          return error(400, 'invalid_grant', 'the refresh token was already used');
        }
        if (session.refresh === body.refresh_token && !session.revoked) {
          session.spent.add(session.refresh);
          session.refresh = this.id('rt');
          if (body.org_id) session.orgId = body.org_id;
          return json(200, this.tokens(session));
        }
      }
      return error(400, 'invalid_grant', 'the refresh token is invalid or expired');
    }
    if (method === 'POST' && path === '/v1/auth/revoke') {
      for (const session of this.sessions.values()) if (session.refresh === body.token) session.revoked = true;
      return new Response(null, { status: 200 });
    }
    if (method === 'POST' && path === '/v1/invitations/accept') return this.accept(req);

    const auth = this.session(req);
    if (!auth) return error(401, 'unauthorized', 'the access token is invalid or expired');
    const { session, user } = auth;
    if (path === '/v1/me' && method === 'GET') return json(200, this.userView(user));
    if (path === '/v1/me' && method === 'PATCH') {
      if ('name' in body) user.name = body.name;
      return json(200, this.userView(user));
    }
    if (path === '/v1/auth/password/change') {
      if (body.current_password !== user.password) return error(401, 'invalid_credentials', 'the email or password is incorrect');
      user.password = body.new_password;
      return json(200, { status: 'password_changed' });
    }
    if (path === '/v1/auth/logout') {
      session.revoked = true;
      return new Response(null, { status: 204 });
    }
    if (path === '/v1/organizations' && method === 'GET') {
      const data = [...this.orgs.values()].filter((o) => o.members.has(user.id)).map((o) => this.withRole(o, user.id));
      return json(200, { data });
    }
    if (path === '/v1/organizations' && method === 'POST') {
      const slug = body.slug ?? String(body.name).toLowerCase().replace(/[^a-z0-9]+/g, '-');
      if ([...this.orgs.values()].some((o) => o.slug === slug)) return error(409, 'conflict', `the slug ${slug} is taken`);
      const org = this.addOrg(body.name, {}, slug);
      org.members.set(user.id, 'owner');
      return json(201, this.withRole(org, user.id));
    }
    const match = /^\/v1\/organizations\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (!match) return error(404, 'not_found', 'route not found');
    const org = this.orgs.get(decodeURIComponent(match[1]!));
    if (!org || !org.members.has(user.id)) return error(404, 'not_found', 'organization not found');
    const rest = match[2] ?? '';
    const mine = this.permissionsOf(org, org.members.get(user.id)!);
    const need = (permission: string) =>
      mine.includes(permission) ? null : error(403, 'forbidden', `this needs the permission ${permission}`);
    const mayGrant = (permissions: string[], what: string) => {
      const lacking = permissions.filter((p) => !mine.includes(p));
      return lacking.length === 0
        ? null
        : error(403, 'forbidden', `you cannot ${what}: it includes permissions you do not hold (${lacking.join(', ')})`);
    };

    if (rest === '' && method === 'GET') return need('organization:read') ?? json(200, this.withRole(org, user.id));
    if (rest === '' && method === 'PATCH') {
      const denied = need('organization:update');
      if (denied) return denied;
      if (body.name !== undefined && body.name !== null) org.name = body.name;
      if (body.slug !== undefined && body.slug !== null) org.slug = body.slug;
      if ('logo_url' in body) org.logo_url = body.logo_url;
      return json(200, this.orgView(org));
    }
    if (rest === '' && method === 'DELETE') {
      const denied = need('organization:delete');
      if (denied) return denied;
      this.orgs.delete(org.id);
      return new Response(null, { status: 204 });
    }
    if (rest === 'switch' && method === 'POST') {
      session.orgId = org.id;
      const role = org.members.get(user.id)!;
      return json(200, {
        access_token: this.accessToken(session),
        token_type: 'Bearer',
        expires_in: this.options.ttlSeconds,
        organization: this.orgView(org),
        role,
        permissions: this.permissionsOf(org, role),
      });
    }
    if (rest === 'leave' && method === 'POST') {
      org.members.delete(user.id);
      return new Response(null, { status: 204 });
    }
    if (rest === 'members' && method === 'GET') {
      const denied = need('members:read');
      if (denied) return denied;
      const all = [...org.members.entries()].map(([userId, role]) => {
        const member = [...this.users.values()].find((u) => u.id === userId)!;
        return {
          membership_id: `mem_${userId}`,
          user: { id: member.id, email: member.email, name: member.name },
          role,
          joined_at: NOW,
        };
      });
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const start = Number(url.searchParams.get('cursor') ?? 0);
      const page = all.slice(start, start + limit);
      return json(200, { data: page, next_cursor: start + limit < all.length ? String(start + limit) : null });
    }
    const member = /^members\/([^/]+)$/.exec(rest);
    if (member && method === 'PATCH') {
      const denied = need('members:update') ?? mayGrant(this.permissionsOf(org, body.role), `give the role ${body.role}`);
      if (denied) return denied;
      org.members.set(member[1]!, body.role);
      const target = [...this.users.values()].find((u) => u.id === member[1])!;
      return json(200, {
        membership_id: `mem_${target.id}`,
        user: { id: target.id, email: target.email, name: target.name },
        role: body.role,
        joined_at: NOW,
      });
    }
    if (member && method === 'DELETE') {
      const denied = need('members:remove');
      if (denied) return denied;
      org.members.delete(member[1]!);
      return new Response(null, { status: 204 });
    }
    if (rest === 'invitations' && method === 'GET') {
      const denied = need('members:read');
      if (denied) return denied;
      return json(200, { data: org.invitations.filter((i) => i.open).map((i) => this.invitationView(i)) });
    }
    if (rest === 'invitations' && method === 'POST') {
      const role = body.role ?? 'member';
      const denied = need('members:invite') ?? mayGrant(this.permissionsOf(org, role), `invite with the role ${role}`);
      if (denied) return denied;
      if (org.invitations.some((i) => i.open && i.email === body.email)) {
        return error(409, 'conflict', 'this address already has a pending invitation; resend it instead');
      }
      const invitation = { id: this.id('invt'), email: body.email, role, token: this.id('inv'), open: true };
      org.invitations.push(invitation);
      this.outbox.push({ kind: 'invitation', to: body.email, token: invitation.token });
      return json(201, this.invitationView(invitation));
    }
    const invitation = /^invitations\/([^/]+)(\/resend)?$/.exec(rest);
    if (invitation) {
      const denied = need('members:invite');
      if (denied) return denied;
      const found = org.invitations.find((i) => i.id === invitation[1] && i.open);
      if (!found) return error(404, 'not_found', 'invitation not found');
      if (invitation[2]) {
        found.token = this.id('inv');
        this.outbox.push({ kind: 'invitation', to: found.email, token: found.token });
        return json(200, this.invitationView(found));
      }
      found.open = false;
      return new Response(null, { status: 204 });
    }
    if (rest === 'roles' && method === 'GET') {
      const denied = need('roles:read');
      if (denied) return denied;
      const builtin = Object.entries(BUILTIN_ROLES).map(([key, role]) => ({
        id: null,
        key,
        name: role.name,
        description: role.description,
        builtin: true,
        permissions: role.permissions,
      }));
      return json(200, { data: [...builtin, ...org.roles.map((r) => ({ ...r, builtin: false, created_at: NOW, updated_at: NOW }))] });
    }
    if (rest === 'roles' && method === 'POST') {
      const denied = need('roles:manage') ?? mayGrant(body.permissions, 'create this role');
      if (denied) return denied;
      if (BUILTIN_ROLES[body.key] || org.roles.some((r) => r.key === body.key)) return error(409, 'conflict', `a role with key ${body.key} exists`);
      const role = { id: this.id('rol'), key: body.key, name: body.name, description: body.description ?? null, permissions: body.permissions };
      org.roles.push(role);
      return json(201, { ...role, builtin: false, created_at: NOW, updated_at: NOW });
    }
    const role = /^roles\/([^/]+)$/.exec(rest);
    if (role) {
      const denied = need('roles:manage');
      if (denied) return denied;
      const found = org.roles.find((r) => r.id === role[1]);
      if (!found) return error(404, 'not_found', 'role not found');
      if (method === 'DELETE') {
        if ([...org.members.values()].includes(found.key)) return error(409, 'conflict', '1 members or pending invitations hold this role; reassign them first');
        org.roles = org.roles.filter((r) => r !== found);
        return new Response(null, { status: 204 });
      }
      const lacking = mayGrant(body.permissions ?? [], 'give this role these permissions');
      if (lacking) return lacking;
      if (body.permissions) found.permissions = body.permissions;
      if (body.name) found.name = body.name;
      return json(200, { ...found, builtin: false, created_at: NOW, updated_at: NOW });
    }
    if (rest === 'api-keys' && method === 'GET') {
      const denied = need('api_keys:manage');
      if (denied) return denied;
      return json(200, { data: [...org.apiKeys].reverse().map((k) => this.apiKeyView(k)) });
    }
    if (rest === 'api-keys' && method === 'POST') {
      const denied = need('api_keys:manage') ?? mayGrant(body.permissions, 'create this API key');
      if (denied) return denied;
      const created = {
        id: this.id('orgkey'),
        name: body.name,
        key: `ask_org_${this.id('secret').padEnd(43, 'x')}`,
        permissions: [...body.permissions].sort(),
        created_by: user.id,
        revoked: false,
      };
      org.apiKeys.push(created);
      return json(201, { key: created.key, api_key: this.apiKeyView(created) });
    }
    const apiKey = /^api-keys\/([^/]+)$/.exec(rest);
    if (apiKey && method === 'DELETE') {
      const denied = need('api_keys:manage');
      if (denied) return denied;
      const found = org.apiKeys.find((k) => k.id === apiKey[1]);
      if (!found) return error(404, 'not_found', 'API key not found');
      if (found.revoked) return error(409, 'conflict', 'the API key is already revoked');
      found.revoked = true;
      return new Response(null, { status: 204 });
    }
    if (rest === 'permissions' && method === 'GET') {
      const denied = need('roles:read');
      if (denied) return denied;
      return json(200, { data: BUILTIN_PERMISSIONS.map((name) => ({ name, builtin: true })) });
    }
    return error(404, 'not_found', 'route not found');
  }

  private apiKeyView(k: FakeOrg['apiKeys'][number]) {
    return {
      id: k.id,
      name: k.name,
      prefix: 'ask_org_',
      last_four: k.key.slice(-4),
      permissions: k.permissions,
      created_by: k.created_by,
      created_at: NOW,
      expires_at: null,
      last_used_at: null,
      revoked_at: k.revoked ? NOW : null,
    };
  }

  private invitationView(i: { id: string; email: string; role: string }) {
    return { id: i.id, email: i.email, role: i.role, invited_by: null, status: 'pending', created_at: NOW, expires_at: '2026-01-09T03:04:05Z' };
  }

  private accept(req: Recorded): Response {
    for (const org of this.orgs.values()) {
      const invitation = org.invitations.find((i) => i.token === req.body.token && i.open);
      if (!invitation) continue;
      const auth = this.session(req);
      let user = this.users.get(invitation.email);
      let created = false;
      if (auth) {
        if (auth.user.email !== invitation.email) return error(403, 'forbidden', 'this invitation was sent to a different email address');
      } else if (user) {
        return error(401, 'unauthorized', 'an account exists for this address: sign in, then accept');
      } else {
        if (!req.body.password) return error(400, 'invalid_request', 'password is required to create your account');
        user = this.addUser(invitation.email, req.body.password, req.body.name ?? null, true);
        created = true;
      }
      invitation.open = false;
      org.members.set(user!.id, invitation.role);
      return json(created ? 201 : 200, {
        organization: this.orgView(org),
        role: invitation.role,
        session: created ? this.startSession(user!.email, org.id) : null,
      });
    }
    return error(400, 'invalid_grant', 'the invitation link is invalid');
  }
}
