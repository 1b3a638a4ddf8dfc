// createClient and createAdminClient: each API group is a thin, typed mapping onto the
// instance's endpoints; the session (session.ts) supplies and renews the access token.
import type {
  AdminClient,
  AdminClientOptions,
  AuthStackClient,
  ClientOptions,
  InvitationsApi,
  MeApi,
  MembersApi,
  OrganizationApiKeysApi,
  OrganizationWebhooksApi,
  OrganizationsApi,
  PermissionsApi,
  RolesApi,
  AuthApi,
} from './api';
import { Transport, resolveBaseUrl } from './http';
import type { Permission } from './permissions';
import { Session } from './session';
import { redirectAuth } from './redirect';
import { hostEnvironment } from './environment';
import type { AuditLogQuery, OrganizationMembership, TokenResponse } from './types';

export { resolveBaseUrl };

export function createClient(options: ClientOptions): AuthStackClient {
  if (!options.apiKey) throw new TypeError('AuthStack: `apiKey` (a publishable key) is required');
  const transport = new Transport({
    baseUrl: resolveBaseUrl(options),
    apiKey: options.apiKey,
    fetch: options.fetch,
  });
  const session = new Session(transport, {
    storage: options.storage,
    storageKey: options.storageKey ?? options.apiKey,
    refreshLeewayMs: options.refreshLeewayMs ?? 30_000,
    autoRefresh: options.autoRefresh ?? true,
    crossTab: options.crossTab ?? true,
    environment: options.environment,
    onError: options.onError ?? ((error) => console.error('AuthStack:', error)),
  });
  const authed = session.authorized.bind(session);
  const host = () => ({ ...hostEnvironment(), ...options.environment });
  const navigate = (url: string) => {
    const go = host().navigate;
    if (!go) throw new TypeError('AuthStack: no way to navigate here (pass `environment.navigate`)');
    go(url);
  };
  const redirect = redirectAuth({
    transport,
    session,
    storageKey: options.storageKey ?? options.apiKey,
    sessionStorage: () => host().sessionStorage,
    navigate,
  });
  const org = (id: string) => ({ id });

  const auth: AuthApi = {
    async signUp(params) {
      await session.settle();
      const answer = await transport.call('post', '/v1/auth/signup', { body: params });
      if ('access_token' in answer) return { status: 'signed-in', user: session.adopt(answer) };
      return { status: 'verification-required', message: answer.message };
    },
    async signIn({ email, password, organizationId }) {
      await session.settle();
      const body = { email, password, ...(organizationId ? { org_id: organizationId } : {}) };
      return session.adopt(await transport.call('post', '/v1/auth/login', { body }));
    },
    signInWithRedirect: redirect.signInWithRedirect,
    handleRedirectCallback: redirect.handleRedirectCallback,
    signOut: (opts) =>
      session.signOut(
        opts?.scope ?? 'local',
        opts?.endSession ? { postLogoutRedirectUri: opts.postLogoutRedirectUri, navigate } : undefined,
      ),
    refresh: () => session.refresh(),
    async requestPasswordReset(email) {
      await transport.call('post', '/v1/auth/password/forgot', { body: { email } });
    },
    async resetPassword(params) {
      await transport.call('post', '/v1/auth/password/reset', { body: params });
    },
    async verifyEmail(token) {
      await session.settle();
      return session.adopt(await transport.call('post', '/v1/auth/email/verify', { body: { token } }));
    },
    async resendVerification(email) {
      await transport.call('post', '/v1/auth/email/verify/resend', { body: { email } });
    },
    async changePassword(body) {
      await authed((bearer) => transport.call('post', '/v1/auth/password/change', { body, bearer }));
    },
  };

  const me: MeApi = {
    async get() {
      const user = await authed((bearer) => transport.call('get', '/v1/me', { bearer }));
      session.setUser(user);
      return user;
    },
    async update(body) {
      const user = await authed((bearer) => transport.call('patch', '/v1/me', { body, bearer }));
      session.setUser(user);
      return user;
    },
    async delete(params) {
      const body = params?.password === undefined ? {} : { password: params.password };
      await authed((bearer) => transport.call('delete', '/v1/me', { body, bearer }));
      session.endLocally(true);
    },
    organizations: async () =>
      (await authed((bearer) => transport.call('get', '/v1/me/organizations', { bearer }))).data,
    sessions: async () =>
      (await authed((bearer) => transport.call('get', '/v1/me/sessions', { bearer }))).data,
    async revokeSession(id) {
      await authed((bearer) => transport.call('delete', '/v1/me/sessions/{id}', { path: { id }, bearer }));
    },
  };

  /** After a change to the organization the session works in, its claims are renewed. */
  const renewIfCurrent = async (organizationId: string) => {
    if (session.getState().organizationId === organizationId) await session.refresh();
  };

  const organizations: OrganizationsApi = {
    list: async () =>
      (await authed((bearer) => transport.call('get', '/v1/organizations', { bearer }))).data,
    create: (body) => authed((bearer) => transport.call('post', '/v1/organizations', { body, bearer })),
    get: (id) => authed((bearer) => transport.call('get', '/v1/organizations/{id}', { path: org(id), bearer })),
    update: (id, body) =>
      authed((bearer) => transport.call('patch', '/v1/organizations/{id}', { path: org(id), body, bearer })),
    async delete(id) {
      await authed((bearer) => transport.call('delete', '/v1/organizations/{id}', { path: org(id), bearer }));
      await renewIfCurrent(id);
    },
    async switch(id): Promise<OrganizationMembership> {
      const answer = await authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/switch', { path: org(id), bearer }),
      );
      session.adoptAccessToken(answer.access_token);
      return { ...answer.organization, role: answer.role, permissions: answer.permissions };
    },
    async leave(id) {
      await authed((bearer) => transport.call('post', '/v1/organizations/{id}/leave', { path: org(id), bearer }));
      await renewIfCurrent(id);
    },
    auditLogs: (id, query) =>
      authed((bearer) =>
        transport.call('get', '/v1/organizations/{id}/audit-logs', { path: org(id), query: auditQuery(query), bearer }),
      ),
    exportAuditLogs: (id, format, query) =>
      authed(
        (bearer) =>
          transport.request({
            method: 'get',
            path: `/v1/organizations/${encodeURIComponent(id)}/audit-logs`,
            query: { ...auditQuery(query), format },
            bearer,
            text: true,
          }) as Promise<string>,
      ),
  };

  const members: MembersApi = {
    list: (id, query) =>
      authed((bearer) => transport.call('get', '/v1/organizations/{id}/members', { path: org(id), query, bearer })),
    updateRole: (id, user_id, role) =>
      authed((bearer) =>
        transport.call('patch', '/v1/organizations/{id}/members/{user_id}', {
          path: { id, user_id },
          body: { role },
          bearer,
        }),
      ),
    async remove(id, user_id) {
      await authed((bearer) =>
        transport.call('delete', '/v1/organizations/{id}/members/{user_id}', { path: { id, user_id }, bearer }),
      );
      if (user_id === session.getState().userId) await renewIfCurrent(id);
    },
  };

  const invitations: InvitationsApi = {
    list: async (id) =>
      (await authed((bearer) => transport.call('get', '/v1/organizations/{id}/invitations', { path: org(id), bearer })))
        .data,
    create: (id, body) =>
      authed((bearer) => transport.call('post', '/v1/organizations/{id}/invitations', { path: org(id), body, bearer })),
    async revoke(id, invitation_id) {
      await authed((bearer) =>
        transport.call('delete', '/v1/organizations/{id}/invitations/{invitation_id}', {
          path: { id, invitation_id },
          bearer,
        }),
      );
    },
    resend: (id, invitation_id) =>
      authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/invitations/{invitation_id}/resend', {
          path: { id, invitation_id },
          bearer,
        }),
      ),
    async accept(body) {
      await session.settle();
      const send = (bearer?: string) => transport.call('post', '/v1/invitations/accept', { body, bearer });
      // Signed in: accept as the current user. Signed out: the password creates the account.
      const accepted = session.getState().status === 'signed-in' ? await authed(send) : await send();
      if (accepted.session) session.adopt(accepted.session as TokenResponse);
      return accepted;
    },
  };

  const roles: RolesApi = {
    list: async (id) =>
      (await authed((bearer) => transport.call('get', '/v1/organizations/{id}/roles', { path: org(id), bearer }))).data,
    create: (id, body) =>
      authed((bearer) => transport.call('post', '/v1/organizations/{id}/roles', { path: org(id), body, bearer })),
    async update(id, role_id, body) {
      const role = await authed((bearer) =>
        transport.call('patch', '/v1/organizations/{id}/roles/{role_id}', { path: { id, role_id }, body, bearer }),
      );
      // Our own role's permissions changed: the access token's claims are stale.
      if (role.key === session.getState().role) await renewIfCurrent(id);
      return role;
    },
    async delete(id, role_id) {
      await authed((bearer) =>
        transport.call('delete', '/v1/organizations/{id}/roles/{role_id}', { path: { id, role_id }, bearer }),
      );
    },
  };

  const apiKeys: OrganizationApiKeysApi = {
    list: async (id) =>
      (await authed((bearer) => transport.call('get', '/v1/organizations/{id}/api-keys', { path: org(id), bearer }))).data,
    create: (id, body) =>
      authed((bearer) => transport.call('post', '/v1/organizations/{id}/api-keys', { path: org(id), body, bearer })),
    async revoke(id, key_id) {
      await authed((bearer) =>
        transport.call('delete', '/v1/organizations/{id}/api-keys/{key_id}', { path: { id, key_id }, bearer }),
      );
    },
  };

  const webhooks: OrganizationWebhooksApi = {
    list: async (id) =>
      (await authed((bearer) => transport.call('get', '/v1/organizations/{id}/webhooks', { path: org(id), bearer }))).data,
    create: (id, body) =>
      authed((bearer) => transport.call('post', '/v1/organizations/{id}/webhooks', { path: org(id), body, bearer })),
    async delete(id, webhook_id) {
      await authed((bearer) =>
        transport.call('delete', '/v1/organizations/{id}/webhooks/{webhook_id}', { path: { id, webhook_id }, bearer }),
      );
    },
    rotateSecret: (id, webhook_id) =>
      authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/webhooks/{webhook_id}/rotate-secret', {
          path: { id, webhook_id },
          bearer,
        }),
      ),
    test: (id, webhook_id) =>
      authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/webhooks/{webhook_id}/test', { path: { id, webhook_id }, bearer }),
      ),
    enable: (id, webhook_id) =>
      authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/webhooks/{webhook_id}/enable', { path: { id, webhook_id }, bearer }),
      ),
    deliveries: async (id, webhook_id, params = {}) =>
      (
        await authed((bearer) =>
          transport.call('get', '/v1/organizations/{id}/webhooks/{webhook_id}/deliveries', {
            path: { id, webhook_id },
            query: { limit: params.limit },
            bearer,
          }),
        )
      ).data,
    replay: (id, event_id) =>
      authed((bearer) =>
        transport.call('post', '/v1/organizations/{id}/webhooks/deliveries/{event_id}/replay', {
          path: { id, event_id },
          bearer,
        }),
      ),
  };

  const permissions: PermissionsApi = {
    list: async (id) =>
      (await authed((bearer) => transport.call('get', '/v1/organizations/{id}/permissions', { path: org(id), bearer })))
        .data,
    check: (id, permission, user_id) =>
      authed((bearer) =>
        transport.call('get', '/v1/organizations/{id}/permissions/check', {
          path: org(id),
          query: { permission, user_id },
          bearer,
        }),
      ),
  };

  return {
    auth,
    me,
    organizations,
    members,
    invitations,
    roles,
    apiKeys,
    webhooks,
    permissions,
    baseUrl: transport.baseUrl,
    load: () => session.load(),
    getState: session.getState,
    subscribe: session.subscribe,
    getAccessToken: () => session.accessToken(),
    hasPermission: (permission: Permission) =>
      (session.getState().permissions as readonly string[]).includes(permission),
    jwks: () => transport.call('get', '/.well-known/jwks.json', {}),
    openidConfiguration: () => transport.call('get', '/.well-known/openid-configuration', {}),
    destroy: () => session.destroy(),
  };
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  if (!options.secretKey) throw new TypeError('AuthStack: `secretKey` is required');
  const transport = new Transport({ baseUrl: resolveBaseUrl(options), fetch: options.fetch });
  const bearer = options.secretKey;
  const user = (id: string) => ({ id });
  return {
    baseUrl: transport.baseUrl,
    users: {
      list: (query) => transport.call('get', '/v1/admin/users', { query, bearer }),
      create: (body) => transport.call('post', '/v1/admin/users', { body, bearer }),
      get: (id) => transport.call('get', '/v1/admin/users/{id}', { path: user(id), bearer }),
      update: (id, body) => transport.call('patch', '/v1/admin/users/{id}', { path: user(id), body, bearer }),
      async delete(id) {
        await transport.call('delete', '/v1/admin/users/{id}', { path: user(id), bearer });
      },
      ban: (id, body) => transport.call('post', '/v1/admin/users/{id}/ban', { path: user(id), body: body ?? {}, bearer }),
      unban: (id) => transport.call('post', '/v1/admin/users/{id}/unban', { path: user(id), bearer }),
      revokeSessions: async (id) =>
        (await transport.call('delete', '/v1/admin/users/{id}/sessions', { path: user(id), bearer })).revoked,
      import: (users) => transport.call('post', '/v1/admin/users/import', { body: { users }, bearer }),
    },
    auditLogs: (query) => transport.call('get', '/v1/admin/audit-logs', { query: auditQuery(query), bearer }),
    exportAuditLogs: (format, query) =>
      transport.request({
        method: 'get',
        path: '/v1/admin/audit-logs',
        query: { ...auditQuery(query), format },
        bearer,
        text: true,
      }) as Promise<string>,
    rotateSigningKey: async () => (await transport.call('post', '/v1/admin/keys/rotate', { bearer })).kid,
  };
}

function auditQuery(query: AuditLogQuery = {}) {
  return {
    action: query.action,
    actor_id: query.actorId,
    target_id: query.targetId,
    organization_id: query.organizationId,
    since: query.since,
    until: query.until,
    cursor: query.cursor,
    limit: query.limit,
  };
}
