// The client against a real instance (the repository's authstack-instance binary): the request
// and answer shapes the fake instance assumes, checked against the real thing, including the
// refresh-token rotation and reuse detection that the single-flight refresh exists for.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningInstance, startInstance } from '../../../test-support/authstack-instance';
import { createAdminClient, createClient } from './client';
import { memoryStorage } from './environment';
import { AuthStackError } from './errors';
import { fakeBroadcastBus, fakeLocks, sharedStorage } from './browser.test-support';

let instance: RunningInstance;
beforeAll(async () => {
  instance = await startInstance();
}, 60_000);
afterAll(() => instance?.stop());
afterEach(() => vi.useRealTimers());

function client(storage = memoryStorage()) {
  return createClient({
    apiKey: 'ask_test_unused_by_a_bare_instance',
    baseUrl: instance.url,
    storage: 'localStorage',
    autoRefresh: false,
    environment: { localStorage: storage, BroadcastChannel: null, locks: null, onStorage: null },
  });
}

const email = () => `ada-${Math.random().toString(36).slice(2)}@example.com`;
const PASSWORD = 'correct horse battery staple';

/** Makes the client's clock believe the access token expired (the instance's clock is untouched). */
function clientClockAfterExpiry() {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 301_000 });
}

describe('@authstack/client against a real instance', () => {
  it('signs up, reads and updates the user, and maps API errors', async () => {
    const authstack = client();
    const address = email();
    const signedUp = await authstack.auth.signUp({ email: address, password: PASSWORD, name: 'Ada' });
    expect(signedUp).toMatchObject({ status: 'signed-in', user: { email: address, name: 'Ada' } });
    expect(authstack.getState()).toMatchObject({ status: 'signed-in', authMethods: ['pwd'], organizationId: null });
    expect((await authstack.me.update({ name: 'Ada Lovelace' })).name).toBe('Ada Lovelace');
    expect(authstack.getState().user?.name).toBe('Ada Lovelace');
    expect(await authstack.me.sessions()).toHaveLength(1);

    const duplicate = await authstack.auth.signUp({ email: address, password: PASSWORD }).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(AuthStackError);
    expect((duplicate as AuthStackError).status).toBe(409);
    const wrong = await client().auth.signIn({ email: address, password: 'not the password' }).catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'invalid_credentials', status: 401 });
    const weak = await client().auth.signUp({ email: email(), password: 'short' }).catch((e: unknown) => e);
    expect(weak).toMatchObject({ code: 'weak_password', status: 400 });
  });

  it('creates an organization, switches into it, and manages roles, invitations and permissions', async () => {
    const authstack = client();
    await authstack.auth.signUp({ email: email(), password: PASSWORD });
    const org = await authstack.organizations.create({ name: 'Acme Rockets' });
    expect(org).toMatchObject({ name: 'Acme Rockets', role: 'owner' });
    const switched = await authstack.organizations.switch(org.id);
    expect(switched).toMatchObject({ id: org.id, role: 'owner' });
    expect(authstack.getState()).toMatchObject({ organizationId: org.id, organizationSlug: org.slug, role: 'owner' });
    expect(authstack.hasPermission('projects:create')).toBe(true);
    await authstack.auth.refresh(); // the session keeps its organization
    expect(authstack.getState().organizationId).toBe(org.id);

    const catalogue = (await authstack.permissions.list(org.id)).map((p) => p.name);
    expect(catalogue).toEqual(expect.arrayContaining(['projects:create', 'projects:delete', 'members:invite']));
    expect(await authstack.permissions.check(org.id, 'projects:create')).toMatchObject({ allowed: true, role: 'owner' });

    const role = await authstack.roles.create(org.id, { key: 'editor', name: 'Editor', permissions: ['projects:create'] });
    expect((await authstack.roles.list(org.id)).map((r) => r.key)).toEqual(expect.arrayContaining(['owner', 'editor']));
    expect((await authstack.roles.update(org.id, role.id!, { name: 'Project editor' })).name).toBe('Project editor');

    const invitation = await authstack.invitations.create(org.id, { email: email(), role: 'editor' });
    expect(invitation).toMatchObject({ role: 'editor', status: 'pending' });
    expect((await authstack.invitations.list(org.id)).map((i) => i.id)).toContain(invitation.id);
    await authstack.invitations.revoke(org.id, invitation.id);
    expect(await authstack.invitations.list(org.id)).toHaveLength(0);
    await authstack.roles.delete(org.id, role.id!);

    const members = await authstack.members.list(org.id, { role: 'owner' });
    expect(members.data).toHaveLength(1);
    const log = await authstack.organizations.auditLogs(org.id, { action: 'organization.role_created' });
    expect(log.data.length).toBeGreaterThan(0);
  });

  it('shares one refresh among concurrent calls: the instance sees no reuse and the session lives on', async () => {
    const authstack = client();
    await authstack.auth.signUp({ email: email(), password: PASSWORD });
    clientClockAfterExpiry();
    const answers = await Promise.all(Array.from({ length: 8 }, () => authstack.me.get()));
    expect(answers).toHaveLength(8);
    vi.useRealTimers();
    // Had two refreshes spent the same token, the instance would have revoked the session.
    const sessions = await authstack.me.sessions();
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
  });

  it('two tabs sharing storage spend the refresh token once', async () => {
    const browser = sharedStorage();
    const Channel = fakeBroadcastBus();
    const locks = fakeLocks();
    const tab = () => {
      const { storage, onStorage } = browser.tab();
      return createClient({
        apiKey: 'k',
        baseUrl: instance.url,
        storage: 'localStorage',
        autoRefresh: false,
        environment: { localStorage: storage, onStorage, BroadcastChannel: Channel, locks },
      });
    };
    const [one, two] = [tab(), tab()];
    await Promise.all([one.load(), two.load()]);
    await one.auth.signUp({ email: email(), password: PASSWORD });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(two.getState().status).toBe('signed-in');
    clientClockAfterExpiry();
    await Promise.all([one.me.get(), two.me.get(), one.me.get(), two.me.get()]);
    vi.useRealTimers();
    expect(await two.me.sessions()).toHaveLength(1);
    one.destroy();
    two.destroy();
  });

  it('signs out by revoking the refresh token, so a restore finds no session', async () => {
    const storage = memoryStorage();
    const authstack = client(storage);
    await authstack.auth.signUp({ email: email(), password: PASSWORD });
    const stored = storage.getItem(`authstack:ask_test_unused_by_a_bare_instance:session`);
    await authstack.auth.signOut();
    expect(authstack.getState().status).toBe('signed-out');
    const restored = client(storage);
    storage.setItem('authstack:ask_test_unused_by_a_bare_instance:session', stored!); // as if another tab kept it
    expect((await restored.load()).status).toBe('signed-out');
  });

  it('the admin client lists users and rotates the signing key with the admin key', async () => {
    const address = email();
    await client().auth.signUp({ email: address, password: PASSWORD });
    const admin = createAdminClient({ secretKey: instance.adminKey, baseUrl: instance.url });
    const page = await admin.users.list({ search: address });
    expect(page.data.map((u) => u.email)).toEqual([address]);
    expect(await admin.rotateSigningKey()).toMatch(/\S/);
    const jwks = await client().jwks();
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    const refused = await createAdminClient({ secretKey: 'ask_admin_wrong', baseUrl: instance.url })
      .users.list()
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401 });
  });
});
