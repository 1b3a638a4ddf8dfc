// A stateful stand-in for an AuthStack instance behind the gateway, shared by the client's, the
// React components' and the dashboard's tests. It answers their fetches with the instance's
// shapes and rules: users and email verification, sessions with rotating refresh tokens (a
// reused token revokes the family), access tokens with the real claim set, organizations,
// members, invitations, built-in and custom roles and organization API keys with the "cannot
// grant what you do not hold" guardrail. Every request is recorded so tests can assert what was
// sent; `routes` and `failNext` replace an answer.
//
// Each route is registered under its OpenAPI template and answers through that route's `reply`
// and `fail` (instance-routes.ts): a route, a status or a body shape the instance does not
// document is a type error. The built-in roles and permissions are the table generated from
// the instance (packages/client/src/generated/builtins.ts).
import { BUILTIN_PERMISSIONS } from '../packages/client/src/generated/builtins';
import {
  BUILTIN_ROLES,
  FakeInstanceCore,
  type FakeOptions,
  type FakeOrg,
  type FakeRequest,
  type FakeUser,
  NOW,
  ORG,
  PASSWORD,
  USER,
} from './fake-instance-core';
import { type Answered, type Schemas, undocumented } from './instance-routes';

export {
  BUILTIN_ROLES,
  type Caller,
  type CustomRole,
  type FakeOptions,
  type FakeOrg,
  type FakeSession,
  type FakeUser,
  json,
  NOW,
  ORG,
  PASSWORD,
  type Recorded,
  USER,
} from './fake-instance-core';

/** The fake instance: `new FakeInstance()` is empty; `FakeInstance.withAda()` has Ada in Acme. */
export class FakeInstance extends FakeInstanceCore {
  constructor(options: FakeOptions = {}) {
    super(options);
    this.authRoutes();
    this.accountRoutes();
    this.organizationRoutes();
    this.memberRoutes();
    this.roleRoutes();
  }

  /** Ada (`USER`, password `PASSWORD`), admin of Acme (`ORG`): where most client tests start. */
  static withAda(options: FakeOptions = {}): FakeInstance {
    const fake = new FakeInstance(options);
    fake.addUser(USER.email, PASSWORD, USER.name ?? null);
    fake.addOrg(ORG.name, { [USER.email]: 'admin' }, ORG.slug);
    return fake;
  }

  /** The 404 the instance answers when a session is asked to start in someone else's organization. */
  private notAMember(user: FakeUser, orgId: string | null | undefined): Answered | null {
    if (!orgId || this.orgs.get(orgId)?.members.has(user.id)) return null;
    // Login and refresh do not list this 404 in the instance's OpenAPI document yet.
    return undocumented(404, 'not_found', 'organization not found');
  }

  private authRoutes() {
    this.on('POST /v1/auth/signup', ({ body, reply, fail }) => {
      const verify = this.options.requireEmailVerification;
      if (body.password.length < 8) return fail(400, 'weak_password', 'password must be at least 8 characters');
      const exists = this.users.has(body.email);
      if (!exists) {
        const user = this.addUser(body.email, body.password, body.name ?? null, !verify);
        if (verify) this.outbox.push({ kind: 'verify_email', to: user.email, token: this.id('evt') });
      }
      if (verify) return reply(202, { status: 'verification_required', message: 'Check your inbox for a link to finish signing up.' });
      if (exists) return fail(409, 'conflict', 'an account with this email already exists');
      return reply(201, this.startSession(body.email));
    });
    this.on('POST /v1/auth/login', ({ body, reply, fail }) => {
      const user = this.users.get(body.email);
      if (!user || user.password !== body.password) return fail(401, 'invalid_credentials', 'the email or password is incorrect');
      if (!user.verified) return fail(403, 'email_not_verified', 'the email address has not been verified yet');
      return this.notAMember(user, body.org_id) ?? reply(200, this.startSession(user.email, body.org_id ?? null));
    });
    this.on('POST /v1/auth/email/verify', ({ body, reply, fail }) => {
      const mail = this.outbox.find((m) => m.kind === 'verify_email' && m.token === body.token);
      if (!mail) return fail(400, 'invalid_grant', 'the verification link is invalid, used or expired');
      mail.token = 'spent';
      const user = this.users.get(mail.to)!;
      user.verified = true;
      return reply(200, this.startSession(user.email));
    });
    this.on('POST /v1/auth/email/verify/resend', ({ body, reply }) => {
      const user = this.users.get(body.email);
      if (user && !user.verified) this.outbox.push({ kind: 'verify_email', to: user.email, token: this.id('evt') });
      return reply(202, { status: 'ok', message: 'If this address awaits verification, a new link is on its way.' });
    });
    this.on('POST /v1/auth/password/forgot', ({ body, reply }) => {
      if (this.users.has(body.email)) this.outbox.push({ kind: 'password_reset', to: body.email, token: this.id('prt') });
      return reply(202, { status: 'ok', message: 'If an account exists for this address, a reset link is on its way.' });
    });
    this.on('POST /v1/auth/password/reset', ({ body, reply, fail }) => {
      const mail = this.outbox.find((m) => m.kind === 'password_reset' && m.token === body.token);
      if (!mail) return fail(400, 'invalid_grant', 'the reset link is invalid, used or expired');
      mail.token = 'spent';
      this.users.get(mail.to)!.password = body.password;
      return reply(200, { status: 'password_reset' });
    });
    this.on('POST /v1/auth/refresh', async ({ body, reply, fail }) => {
      if (this.options.refreshDelayMs) await new Promise((r) => setTimeout(r, this.options.refreshDelayMs));
      for (const session of this.sessions.values()) {
        if (session.spent.has(body.refresh_token)) {
          session.revoked = true; // reuse: the whole family is revoked
          return fail(400, 'invalid_grant', 'the refresh token was already used');
        }
        if (session.refresh === body.refresh_token && !session.revoked) {
          const refused = this.notAMember(this.userById(session.userId)!, body.org_id);
          if (refused) return refused; // checked before rotating, as the instance does
          session.spent.add(session.refresh);
          session.refresh = this.refreshToken();
          if (body.org_id) session.orgId = body.org_id;
          return reply(200, this.tokens(session));
        }
      }
      return fail(400, 'invalid_grant', 'the refresh token is invalid or expired');
    });
    this.on('POST /v1/auth/revoke', ({ body, reply }) => {
      for (const session of this.sessions.values()) if (session.refresh === body.token) session.revoked = true;
      return reply(200);
    });
    this.onSignedIn('POST /v1/auth/logout', ({ body, reply }, { session, user }) => {
      if (body?.scope === 'global') {
        for (const s of this.sessions.values()) if (s.userId === user.id) s.revoked = true;
      } else {
        session.revoked = true;
      }
      return reply(204);
    });
    this.onSignedIn('POST /v1/auth/password/change', ({ body, reply, fail }, { user }) => {
      if (body.current_password !== user.password) return fail(401, 'invalid_credentials', 'the email or password is incorrect');
      user.password = body.new_password;
      return reply(200, { status: 'password_changed' });
    });
    this.on('POST /v1/invitations/accept', (req) => this.accept(req));
  }

  private accountRoutes() {
    this.onSignedIn('GET /v1/me', ({ reply }, { user }) => reply(200, this.userView(user)));
    this.onSignedIn('PATCH /v1/me', ({ body, reply }, { user }) => {
      if ('name' in body) user.name = body.name ?? null;
      return reply(200, this.userView(user));
    });
    this.onSignedIn('GET /v1/organizations', ({ reply }, { user }) => {
      const data = [...this.orgs.values()].filter((o) => o.members.has(user.id)).map((o) => this.withRole(o, user.id));
      return reply(200, { data });
    });
    this.onSignedIn('POST /v1/organizations', ({ body, reply, fail }, { user }) => {
      const slug = body.slug ?? body.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
      if ([...this.orgs.values()].some((o) => o.slug === slug)) return fail(409, 'conflict', `the slug ${slug} is taken`);
      const org = this.addOrg(body.name, {}, slug);
      org.members.set(user.id, 'owner');
      return reply(201, this.withRole(org, user.id));
    });
  }

  private accept(req: FakeRequest<'POST /v1/invitations/accept'>): Answered {
    for (const org of this.orgs.values()) {
      const invitation = org.invitations.find((i) => i.token === req.body.token && i.open);
      if (!invitation) continue;
      const caller = this.caller(req);
      let user = this.users.get(invitation.email);
      let created = false;
      if (caller) {
        if (caller.user.email !== invitation.email) return req.fail(403, 'forbidden', 'this invitation was sent to a different email address');
      } else if (user) {
        return req.fail(401, 'unauthorized', 'an account exists for this address: sign in, then accept');
      } else {
        if (!req.body.password) return req.fail(400, 'invalid_request', 'password is required to create your account');
        user = this.addUser(invitation.email, req.body.password, req.body.name ?? null, true);
        created = true;
      }
      invitation.open = false;
      org.members.set(user!.id, invitation.role);
      const body = { organization: this.orgView(org), role: invitation.role, session: created ? this.startSession(user!.email, org.id) : null };
      return created ? req.reply(201, body) : req.reply(200, body);
    }
    return req.fail(400, 'invalid_grant', 'the invitation link is invalid');
  }

  private organizationRoutes() {
    this.onMember('GET /v1/organizations/{id}', ({ reply }, { org, user, need }) => need('organization:read') ?? reply(200, this.withRole(org, user.id)));
    this.onMember('PATCH /v1/organizations/{id}', ({ body, reply }, { org, need }) => {
      const denied = need('organization:update');
      if (denied) return denied;
      if (body.name !== undefined && body.name !== null) org.name = body.name;
      if (body.slug !== undefined && body.slug !== null) org.slug = body.slug;
      if ('logo_url' in body) org.logo_url = body.logo_url ?? null;
      return reply(200, this.orgView(org));
    });
    this.onMember('DELETE /v1/organizations/{id}', ({ reply }, { org, need }) => {
      const denied = need('organization:delete');
      if (denied) return denied;
      this.orgs.delete(org.id);
      return reply(204);
    });
    this.onMember('POST /v1/organizations/{id}/switch', ({ reply }, { org, role, session }) => {
      session.orgId = org.id;
      return reply(200, {
        access_token: this.accessToken(session),
        token_type: 'Bearer',
        expires_in: this.options.ttlSeconds,
        organization: this.orgView(org),
        role,
        permissions: this.permissionsOf(org, role),
      });
    });
    this.onMember('POST /v1/organizations/{id}/leave', ({ reply }, { org, user }) => {
      org.members.delete(user.id);
      return reply(204);
    });
    this.onMember('GET /v1/organizations/{id}/permissions', ({ reply }, { need }) => {
      return need('roles:read') ?? reply(200, { data: BUILTIN_PERMISSIONS.map((name) => ({ name, builtin: true })) });
    });
    this.onMember('GET /v1/organizations/{id}/api-keys', ({ reply }, { org, need }) => {
      return need('api_keys:manage') ?? reply(200, { data: [...org.apiKeys].reverse().map((k) => this.apiKeyView(k)) });
    });
    this.onMember('POST /v1/organizations/{id}/api-keys', ({ body, reply }, { org, user, need, mayGrant }) => {
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
      return reply(201, { key: created.key, api_key: this.apiKeyView(created) });
    });
    this.onMember('DELETE /v1/organizations/{id}/api-keys/{key_id}', ({ params, reply, fail }, { org, need }) => {
      const denied = need('api_keys:manage');
      if (denied) return denied;
      const found = org.apiKeys.find((k) => k.id === params.key_id);
      if (!found) return fail(404, 'not_found', 'API key not found');
      if (found.revoked) return fail(409, 'conflict', 'the API key is already revoked');
      found.revoked = true;
      return reply(204);
    });
  }

  private memberRoutes() {
    this.onMember('GET /v1/organizations/{id}/members', ({ query, reply }, { org, need }) => {
      const denied = need('members:read');
      if (denied) return denied;
      const all = [...org.members.entries()].map(([userId, role]) => this.memberView(this.userById(userId)!, role));
      const limit = Number(query.get('limit') ?? 50);
      const start = Number(query.get('cursor') ?? 0);
      return reply(200, { data: all.slice(start, start + limit), next_cursor: start + limit < all.length ? String(start + limit) : null });
    });
    this.onMember('PATCH /v1/organizations/{id}/members/{user_id}', ({ body, params, reply }, { org, need, mayGrant }) => {
      const denied = need('members:update') ?? mayGrant(this.permissionsOf(org, body.role), `give the role ${body.role}`);
      if (denied) return denied;
      org.members.set(params.user_id, body.role);
      return reply(200, this.memberView(this.userById(params.user_id)!, body.role));
    });
    this.onMember('DELETE /v1/organizations/{id}/members/{user_id}', ({ params, reply }, { org, need }) => {
      const denied = need('members:remove');
      if (denied) return denied;
      org.members.delete(params.user_id);
      return reply(204);
    });
    this.onMember('GET /v1/organizations/{id}/invitations', ({ reply }, { org, need }) => {
      return need('members:read') ?? reply(200, { data: org.invitations.filter((i) => i.open).map((i) => this.invitationView(i)) });
    });
    this.onMember('POST /v1/organizations/{id}/invitations', ({ body, reply, fail }, { org, need, mayGrant }) => {
      const role = body.role ?? 'member';
      const denied = need('members:invite') ?? mayGrant(this.permissionsOf(org, role), `invite with the role ${role}`);
      if (denied) return denied;
      if (org.invitations.some((i) => i.open && i.email === body.email)) {
        return fail(409, 'conflict', 'this address already has a pending invitation; resend it instead');
      }
      const invitation = { id: this.id('invt'), email: body.email, role, token: this.id('inv'), open: true };
      org.invitations.push(invitation);
      this.outbox.push({ kind: 'invitation', to: body.email, token: invitation.token });
      return reply(201, this.invitationView(invitation));
    });
    this.onMember('POST /v1/organizations/{id}/invitations/{invitation_id}/resend', ({ params, reply, fail }, { org, need }) => {
      const denied = need('members:invite');
      const found = org.invitations.find((i) => i.id === params.invitation_id && i.open);
      if (denied || !found) return denied ?? fail(404, 'not_found', 'invitation not found');
      found.token = this.id('inv');
      this.outbox.push({ kind: 'invitation', to: found.email, token: found.token });
      return reply(200, this.invitationView(found));
    });
    this.onMember('DELETE /v1/organizations/{id}/invitations/{invitation_id}', ({ params, reply, fail }, { org, need }) => {
      const denied = need('members:invite');
      const found = org.invitations.find((i) => i.id === params.invitation_id && i.open);
      if (denied || !found) return denied ?? fail(404, 'not_found', 'invitation not found');
      found.open = false;
      return reply(204);
    });
  }

  private roleRoutes() {
    this.onMember('GET /v1/organizations/{id}/roles', ({ reply }, { org, need }) => {
      const denied = need('roles:read');
      if (denied) return denied;
      const builtin = Object.entries(BUILTIN_ROLES).map(([key, role]) => ({ id: null, key, builtin: true, ...role }));
      return reply(200, { data: [...builtin, ...org.roles.map((r) => this.roleView(r))] });
    });
    this.onMember('POST /v1/organizations/{id}/roles', ({ body, reply, fail }, { org, need, mayGrant }) => {
      const denied = need('roles:manage') ?? mayGrant(body.permissions, 'create this role');
      if (denied) return denied;
      if (BUILTIN_ROLES[body.key] || org.roles.some((r) => r.key === body.key)) return fail(409, 'conflict', `a role with key ${body.key} exists`);
      const role = { id: this.id('rol'), key: body.key, name: body.name, description: body.description ?? null, permissions: body.permissions };
      org.roles.push(role);
      return reply(201, this.roleView(role));
    });
    this.onMember('PATCH /v1/organizations/{id}/roles/{role_id}', ({ body, params, reply, fail }, { org, need, mayGrant }) => {
      const denied = need('roles:manage');
      const found = org.roles.find((r) => r.id === params.role_id);
      if (denied || !found) return denied ?? fail(404, 'not_found', 'role not found');
      const lacking = mayGrant(body.permissions ?? [], 'give this role these permissions');
      if (lacking) return lacking;
      if (body.permissions) found.permissions = body.permissions;
      if (body.name) found.name = body.name;
      return reply(200, this.roleView(found));
    });
    this.onMember('DELETE /v1/organizations/{id}/roles/{role_id}', ({ params, reply, fail }, { org, need }) => {
      const denied = need('roles:manage');
      const found = org.roles.find((r) => r.id === params.role_id);
      if (denied || !found) return denied ?? fail(404, 'not_found', 'role not found');
      if ([...org.members.values()].includes(found.key)) return fail(409, 'conflict', '1 members or pending invitations hold this role; reassign them first');
      org.roles = org.roles.filter((r) => r !== found);
      return reply(204);
    });
  }

  private memberView(user: FakeUser, role: string): Schemas['Member'] {
    return { membership_id: `mem_${user.id}`, user: { id: user.id, email: user.email, name: user.name }, role, joined_at: NOW };
  }

  private roleView(role: FakeOrg['roles'][number]): Schemas['RoleView'] {
    return { ...role, builtin: false, created_at: NOW, updated_at: NOW };
  }

  private apiKeyView(k: FakeOrg['apiKeys'][number]): Schemas['OrgKeyView'] {
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

  private invitationView(i: { id: string; email: string; role: string }): Schemas['InvitationView'] {
    return { id: i.id, email: i.email, role: i.role, invited_by: null, status: 'pending', created_at: NOW, expires_at: '2026-01-09T03:04:05Z' };
  }
}
