import { describe, expect, it } from 'vitest';
import { createAdminClient, createClient, resolveBaseUrl } from './client';
import { AuthStackError, NetworkError, RateLimitedError, isAuthStackError } from './errors';
import { FakeInstance, ORG, USER, json } from '../../../test-support/fake-instance';

const BASE = 'http://127.0.0.1:7401';
const KEY = 'ask_test_publishable';

function setup() {
  const instance = FakeInstance.withAda();
  const client = createClient({ apiKey: KEY, baseUrl: BASE, storage: 'memory', fetch: instance.fetch, autoRefresh: false });
  return { instance, client };
}

async function signedIn() {
  const ctx = setup();
  await ctx.client.auth.signIn({ email: USER.email, password: 'correct horse battery' });
  return ctx;
}

describe('gateway URL', () => {
  it('resolves a region to its gateway and keeps a base URL as given', () => {
    expect(resolveBaseUrl({ region: 'eu-west-1' })).toBe('https://eu-west-1.api.authstack.io');
    expect(resolveBaseUrl({ baseUrl: 'http://127.0.0.1:7401/', region: 'eu-west-1' })).toBe(BASE);
    expect(() => resolveBaseUrl({})).toThrow(/baseUrl/);
    expect(() => resolveBaseUrl({ region: 'evil.com/x' })).toThrow(/region/);
    expect(() => createClient({ apiKey: '', baseUrl: BASE })).toThrow(/apiKey/);
  });
});

describe('requests', () => {
  it('signs in with the publishable key and the login body, and no Authorization header', async () => {
    const { instance, client } = setup();
    const user = await client.auth.signIn({ email: USER.email, password: 'correct horse battery', organizationId: 'org_1' });
    expect(user).toEqual(USER);
    const [login] = instance.requests;
    expect(login).toMatchObject({ method: 'POST', path: '/v1/auth/login' });
    expect(login!.headers['x-authstack-key']).toBe(KEY);
    expect(login!.headers['content-type']).toBe('application/json');
    expect(login!.headers.authorization).toBeUndefined();
    expect(login!.body).toEqual({ email: USER.email, password: 'correct horse battery', org_id: 'org_1' });
  });

  it('sends the access token, encodes path parameters and passes query parameters', async () => {
    const { instance, client } = await signedIn();
    instance.routes.set('GET /v1/organizations/org%2F1/members', () => json(200, { data: [], next_cursor: null }));
    await client.members.list('org/1', { search: 'ada', role: 'admin', limit: 10 });
    const req = instance.requests.at(-1)!;
    expect(req.path).toBe('/v1/organizations/org%2F1/members');
    expect(Object.fromEntries(req.query)).toEqual({ search: 'ada', role: 'admin', limit: '10' });
    expect(req.headers.authorization).toMatch(/^Bearer ey/);
    expect(req.headers['x-authstack-key']).toBe(KEY);
  });

  it('maps every resource method onto its endpoint', async () => {
    const { instance, client } = await signedIn();
    const role = { key: 'editor', name: 'Editor', builtin: false, permissions: [] };
    const invitation = { id: 'inv_1', email: 'b@example.com', role: 'member', status: 'pending', created_at: '', expires_at: '' };
    const calls: [string, () => Promise<unknown>, unknown?][] = [
      ['GET /v1/me/organizations', () => client.me.organizations(), { data: [] }],
      ['GET /v1/me/sessions', () => client.me.sessions(), { data: [] }],
      ['DELETE /v1/me/sessions/ses_9', () => client.me.revokeSession('ses_9')],
      ['PATCH /v1/me', () => client.me.update({ name: 'Ada L.' }), USER],
      ['GET /v1/organizations', () => client.organizations.list(), { data: [] }],
      ['POST /v1/organizations', () => client.organizations.create({ name: 'Acme' }), { ...ORG, role: 'owner', permissions: [] }],
      ['GET /v1/organizations/org_1', () => client.organizations.get('org_1'), { ...ORG, role: 'owner', permissions: [] }],
      ['PATCH /v1/organizations/org_1', () => client.organizations.update('org_1', { name: 'Acme 2' }), ORG],
      ['DELETE /v1/organizations/org_1', () => client.organizations.delete('org_1')],
      ['POST /v1/organizations/org_1/leave', () => client.organizations.leave('org_1')],
      ['GET /v1/organizations/org_1/audit-logs', () => client.organizations.auditLogs('org_1', { actorId: 'usr_1' }), { data: [] }],
      ['PATCH /v1/organizations/org_1/members/usr_2', () => client.members.updateRole('org_1', 'usr_2', 'admin'), {}],
      ['DELETE /v1/organizations/org_1/members/usr_2', () => client.members.remove('org_1', 'usr_2')],
      ['GET /v1/organizations/org_1/invitations', () => client.invitations.list('org_1'), { data: [] }],
      ['POST /v1/organizations/org_1/invitations', () => client.invitations.create('org_1', { email: 'b@example.com', role: 'member' }), invitation],
      ['DELETE /v1/organizations/org_1/invitations/inv_1', () => client.invitations.revoke('org_1', 'inv_1')],
      ['POST /v1/organizations/org_1/invitations/inv_1/resend', () => client.invitations.resend('org_1', 'inv_1'), invitation],
      ['GET /v1/organizations/org_1/roles', () => client.roles.list('org_1'), { data: [] }],
      ['POST /v1/organizations/org_1/roles', () => client.roles.create('org_1', { key: 'editor', name: 'Editor', permissions: [] }), role],
      ['PATCH /v1/organizations/org_1/roles/rol_1', () => client.roles.update('org_1', 'rol_1', { name: 'Ed' }), role],
      ['DELETE /v1/organizations/org_1/roles/rol_1', () => client.roles.delete('org_1', 'rol_1')],
      ['GET /v1/organizations/org_1/api-keys', () => client.apiKeys.list('org_1'), { data: [] }],
      ['POST /v1/organizations/org_1/api-keys', () => client.apiKeys.create('org_1', { name: 'CI', permissions: ['members:read'] }), { key: 'ask_org_x', api_key: {} }],
      ['DELETE /v1/organizations/org_1/api-keys/orgkey_1', () => client.apiKeys.revoke('org_1', 'orgkey_1')],
      ['GET /v1/organizations/org_1/webhooks', () => client.webhooks.list('org_1'), { data: [] }],
      ['POST /v1/organizations/org_1/webhooks', () => client.webhooks.create('org_1', { url: 'https://siem.example.com/h', events: ['organization.*'] }), { secret: 'whsec_x', webhook: {} }],
      ['DELETE /v1/organizations/org_1/webhooks/whe_org_1', () => client.webhooks.delete('org_1', 'whe_org_1')],
      ['POST /v1/organizations/org_1/webhooks/whe_org_1/rotate-secret', () => client.webhooks.rotateSecret('org_1', 'whe_org_1'), { id: 'whe_org_1', secret: 'whsec_y' }],
      ['POST /v1/organizations/org_1/webhooks/whe_org_1/test', () => client.webhooks.test('org_1', 'whe_org_1'), { event_id: 'evt_1' }],
      ['POST /v1/organizations/org_1/webhooks/whe_org_1/enable', () => client.webhooks.enable('org_1', 'whe_org_1'), {}],
      ['GET /v1/organizations/org_1/webhooks/whe_org_1/deliveries', () => client.webhooks.deliveries('org_1', 'whe_org_1', { limit: 5 }), { data: [] }],
      ['POST /v1/organizations/org_1/webhooks/deliveries/evt_1/replay', () => client.webhooks.replay('org_1', 'evt_1'), { event_id: 'evt_1', queued: 1 }],
      ['GET /v1/organizations/org_1/permissions', () => client.permissions.list('org_1'), { data: [] }],
      ['GET /v1/organizations/org_1/permissions/check', () => client.permissions.check('org_1', 'members:invite', 'usr_2'), { allowed: true }],
      ['POST /v1/auth/password/change', () => client.auth.changePassword({ current_password: 'a', new_password: 'b' }), { status: 'ok' }],
    ];
    for (const [route, call, body] of calls) {
      instance.routes.set(route, () => (body === undefined ? new Response(null, { status: 204 }) : json(200, body)));
      await call();
      const req = instance.requests.at(-1)!;
      expect(`${req.method} ${req.path}`).toBe(route);
      expect(req.headers.authorization).toMatch(/^Bearer /);
    }
    const bodies = Object.fromEntries(instance.requests.map((r) => [`${r.method} ${r.path}`, r.body]));
    expect(bodies['PATCH /v1/organizations/org_1/members/usr_2']).toEqual({ role: 'admin' });
    expect(bodies['POST /v1/organizations/org_1/invitations']).toEqual({ email: 'b@example.com', role: 'member' });
    expect(bodies['POST /v1/organizations/org_1/api-keys']).toEqual({ name: 'CI', permissions: ['members:read'] });
    expect(bodies['POST /v1/organizations/org_1/webhooks']).toEqual({ url: 'https://siem.example.com/h', events: ['organization.*'] });
    const deliveries = instance.requests.find((r) => r.path.endsWith('/deliveries'))!;
    expect(Object.fromEntries(deliveries.query)).toEqual({ limit: '5' });
    const check = instance.requests.find((r) => r.path.endsWith('/permissions/check'))!;
    expect(Object.fromEntries(check.query)).toEqual({ permission: 'members:invite', user_id: 'usr_2' });
    const audit = instance.requests.find((r) => r.path.endsWith('/audit-logs'))!;
    expect(Object.fromEntries(audit.query)).toEqual({ actor_id: 'usr_1' });
  });

  it('calls the unauthenticated endpoints without a token', async () => {
    const { instance, client } = setup();
    const accepted = () => json(202, { status: 'ok', message: 'on its way' });
    instance.routes.set('POST /v1/auth/password/forgot', accepted);
    instance.routes.set('POST /v1/auth/email/verify/resend', accepted);
    instance.routes.set('POST /v1/auth/password/reset', () => json(200, { status: 'ok' }));
    instance.routes.set('GET /.well-known/jwks.json', () => json(200, { keys: [] }));
    await client.auth.requestPasswordReset('ada@example.com');
    await client.auth.resendVerification('ada@example.com');
    await client.auth.resetPassword({ token: 'tok', password: 'new password 1' });
    expect(await client.jwks()).toEqual({ keys: [] });
    expect(instance.requests.map((r) => [r.path, r.body, r.headers.authorization])).toEqual([
      ['/v1/auth/password/forgot', { email: 'ada@example.com' }, undefined],
      ['/v1/auth/email/verify/resend', { email: 'ada@example.com' }, undefined],
      ['/v1/auth/password/reset', { token: 'tok', password: 'new password 1' }, undefined],
      ['/.well-known/jwks.json', undefined, undefined],
    ]);
  });

  it('reports sign-up that needs email verification, and signs in otherwise', async () => {
    const { instance, client } = setup();
    instance.routes.set('POST /v1/auth/signup', () => json(202, { status: 'ok', message: 'Check your inbox.' }));
    expect(await client.auth.signUp({ email: 'b@example.com', password: 'pw pw pw pw' })).toEqual({
      status: 'verification-required',
      message: 'Check your inbox.',
    });
    expect(client.getState().status).not.toBe('signed-in');
    instance.routes.set('POST /v1/auth/signup', () => json(201, instance.startSession(USER.email)));
    expect(await client.auth.signUp({ email: 'b@example.com', password: 'pw pw pw pw' })).toEqual({
      status: 'signed-in',
      user: USER,
    });
    expect(client.getState()).toMatchObject({ status: 'signed-in', userId: USER.id });
  });

  it('accepts an invitation signed out by creating the account and signing it in', async () => {
    const { instance, client } = setup();
    instance.routes.set('POST /v1/invitations/accept', () =>
      json(201, { organization: ORG, role: 'member', session: instance.startSession(USER.email, 'org_1') }),
    );
    const accepted = await client.invitations.accept({ token: 'inv_tok', password: 'pw pw pw pw', name: 'Bo' });
    expect(accepted.role).toBe('member');
    expect(instance.requests[0]!.headers.authorization).toBeUndefined();
    expect(client.getState()).toMatchObject({ status: 'signed-in', organizationId: 'org_1', role: 'admin' });
  });

  it('accepts an invitation signed in as the current user', async () => {
    const { instance, client } = await signedIn();
    instance.routes.set('POST /v1/invitations/accept', () => json(200, { organization: ORG, role: 'member', session: null }));
    await client.invitations.accept({ token: 'inv_tok' });
    expect(instance.requests.at(-1)!.headers.authorization).toMatch(/^Bearer /);
  });

  it('returns audit exports as text', async () => {
    const { instance, client } = await signedIn();
    instance.routes.set('GET /v1/organizations/org_1/audit-logs', () => new Response('{"id":"a"}\n', { status: 200 }));
    expect(await client.organizations.exportAuditLogs('org_1', 'jsonl', { since: '2025-01-01T00:00:00Z' })).toBe('{"id":"a"}\n');
    expect(Object.fromEntries(instance.requests.at(-1)!.query)).toEqual({ since: '2025-01-01T00:00:00Z', format: 'jsonl' });
  });
});

describe('errors', () => {
  it("carries the API's code, status, message and request id", async () => {
    const { instance, client } = setup();
    instance.routes.set('POST /v1/auth/login', () =>
      json(401, { error: 'invalid_credentials', message: 'The email or password is wrong.' }, { 'x-request-id': 'req_1' }),
    );
    const error = await client.auth.signIn({ email: 'a@example.com', password: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthStackError);
    expect(error).toMatchObject({ code: 'invalid_credentials', status: 401, message: 'The email or password is wrong.', requestId: 'req_1' });
    expect(isAuthStackError(error, 'invalid_credentials')).toBe(true);
    expect(isAuthStackError(error, 'weak_password')).toBe(false);
    expect(client.getState().status).not.toBe('signed-in');
  });

  it('narrows rate limits with Retry-After', async () => {
    const { instance, client } = setup();
    instance.routes.set('POST /v1/auth/login', () => json(429, { error: 'rate_limited', message: 'slow down' }, { 'retry-after': '17' }));
    const error = await client.auth.signIn({ email: 'a@example.com', password: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, retryAfterSeconds: 17 });
  });

  it("passes the gateway's codes through and reports a non-JSON answer as unexpected_response", async () => {
    const { instance, client } = setup();
    instance.routes.set('POST /v1/auth/password/forgot', () => json(401, { error: 'invalid_api_key', message: 'unknown key' }));
    await expect(client.auth.requestPasswordReset('a@example.com')).rejects.toMatchObject({ code: 'invalid_api_key', status: 401 });
    instance.routes.set('POST /v1/auth/password/forgot', () => new Response('<html>Bad Gateway</html>', { status: 502 }));
    await expect(client.auth.requestPasswordReset('a@example.com')).rejects.toMatchObject({
      code: 'unexpected_response',
      status: 502,
      message: 'HTTP 502',
    });
  });

  it('tells a network failure apart from an API error', async () => {
    const { instance, client } = setup();
    instance.offline = true;
    const error = await client.auth.signIn({ email: 'a@example.com', password: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(AuthStackError);
    expect((error as NetworkError).cause).toBeInstanceOf(TypeError);
  });

  it('refuses calls that need a session while signed out', async () => {
    const { instance, client } = setup();
    await expect(client.me.get()).rejects.toMatchObject({ code: 'signed_out', status: 0 });
    expect(instance.requests).toHaveLength(0);
  });
});

describe('admin client', () => {
  it('authenticates with the secret key as a bearer and no publishable key', async () => {
    const instance = new FakeInstance();
    const admin = createAdminClient({ secretKey: 'ask_secret_test_x', baseUrl: BASE, fetch: instance.fetch });
    instance.routes.set('GET /v1/admin/users', () => json(200, { data: [USER], next_cursor: null }));
    instance.routes.set('DELETE /v1/admin/users/usr_1/sessions', () => json(200, { revoked: 3 }));
    instance.routes.set('POST /v1/admin/keys/rotate', () => json(200, { kid: 'k2' }));
    instance.routes.set('POST /v1/admin/users/usr_1/ban', () => json(200, USER));
    expect((await admin.users.list({ search: 'ada' })).data).toEqual([USER]);
    expect(await admin.users.revokeSessions('usr_1')).toBe(3);
    expect(await admin.rotateSigningKey()).toBe('k2');
    await admin.users.ban('usr_1', { reason: 'spam' });
    for (const req of instance.requests) {
      expect(req.headers.authorization).toBe('Bearer ask_secret_test_x');
      expect(req.headers['x-authstack-key']).toBeUndefined();
    }
    expect(Object.fromEntries(instance.requests[0]!.query)).toEqual({ search: 'ada' });
    expect(instance.requests[3]!.body).toEqual({ reason: 'spam' });
  });
});
