import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthState } from './api';
import { createClient } from './client';
import { type StorageLike, memoryStorage } from './environment';
import { NetworkError } from './errors';
import { FakeInstance, USER } from '../../../test-support/fake-instance';

const BASE = 'http://127.0.0.1:7401';
const PASSWORD = 'correct horse battery';
const STORED_KEY = 'authstack:ask_test_k:session';

function setup(options: { ttl?: number; refreshDelayMs?: number; autoRefresh?: boolean; storage?: StorageLike } = {}) {
  const instance = FakeInstance.withAda({ ttlSeconds: options.ttl ?? 300, refreshDelayMs: options.refreshDelayMs ?? 0 });
  const storage = options.storage ?? memoryStorage();
  const errors: unknown[] = [];
  const client = createClient({
    apiKey: 'ask_test_k',
    baseUrl: BASE,
    storage: 'localStorage',
    fetch: instance.fetch,
    autoRefresh: options.autoRefresh ?? false,
    environment: { localStorage: storage, BroadcastChannel: null, locks: null, onStorage: null },
    onError: (e) => errors.push(e),
  });
  return { instance, storage, client, errors };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('state', () => {
  it('is loading until load(), then derived from the token claims and the user', async () => {
    const { client } = setup();
    const seen: AuthState[] = [];
    const unsubscribe = client.subscribe((s) => seen.push(s));
    expect(client.getState().status).toBe('loading');
    expect((await client.load()).status).toBe('signed-out');
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    expect(client.getState()).toEqual({
      status: 'signed-in',
      user: USER,
      userId: USER.id,
      sessionId: 'ses_1',
      authMethods: ['pwd'],
      organizationId: null,
      organizationSlug: null,
      role: null,
      permissions: [],
    });
    expect(client.getState()).toBe(client.getState()); // stable for useSyncExternalStore
    expect(seen.map((s) => s.status)).toEqual(['signed-out', 'signed-in']);
    unsubscribe();
    await client.auth.signOut();
    expect(seen).toHaveLength(2);
  });

  it('keeps the refresh token in storage and the access token only in memory', async () => {
    const written: string[] = [];
    const backing = memoryStorage();
    const storage: StorageLike = {
      ...backing,
      setItem: (k, v) => (k === STORED_KEY && written.push(v), backing.setItem(k, v)),
    };
    const { client } = setup({ storage });
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    await client.auth.refresh();
    expect(written).toHaveLength(2);
    const stored = JSON.parse(storage.getItem(STORED_KEY)!);
    expect(Object.keys(stored).sort()).toEqual(['refresh_token', 'sid']);
    expect(stored.refresh_token).toMatch(/^rt_/);
    for (const value of written) expect(value).not.toContain('eyJ');
    expect(await client.getAccessToken()).toMatch(/^eyJ/);
  });

  it('switches organization: new claims, same refresh token, and refreshes keep them', async () => {
    const { client, instance, storage } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    const refreshToken = storage.getItem(STORED_KEY);
    const org = await client.organizations.switch('org_1');
    expect(org).toMatchObject({ id: 'org_1', role: 'admin', permissions: expect.arrayContaining(['members:invite']) });
    expect(client.getState()).toMatchObject({ organizationId: 'org_1', organizationSlug: 'acme', role: 'admin' });
    expect(client.hasPermission('members:invite')).toBe(true);
    expect(client.hasPermission('billing:manage')).toBe(false);
    expect(storage.getItem(STORED_KEY)).toBe(refreshToken);
    await client.auth.refresh();
    expect(client.getState().organizationId).toBe('org_1');
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
  });

  it('updates the user from /v1/me', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.routes.set('GET /v1/me', () => new Response(JSON.stringify({ ...USER, name: 'Ada Lovelace' }), { status: 200 }));
    await client.me.get();
    expect(client.getState().user?.name).toBe('Ada Lovelace');
  });
});

describe('restoring a session', () => {
  it('refreshes a stored refresh token on load', async () => {
    const { client, instance, storage } = setup();
    const tokens = instance.startSession(USER.email);
    storage.setItem(STORED_KEY, JSON.stringify({ refresh_token: tokens.refresh_token, sid: 'ses_1' }));
    expect(await client.load()).toMatchObject({ status: 'signed-in', userId: USER.id, user: USER });
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(JSON.parse(storage.getItem(STORED_KEY)!).refresh_token).not.toBe(tokens.refresh_token);
    await client.load();
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
  });

  it('signs out and forgets a refresh token the instance refuses', async () => {
    const { client, instance, storage } = setup();
    storage.setItem(STORED_KEY, JSON.stringify({ refresh_token: 'rt_revoked', sid: 'ses_0' }));
    expect((await client.load()).status).toBe('signed-out');
    expect(storage.getItem(STORED_KEY)).toBeNull();
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
  });

  it('stays loading and keeps the token when the instance cannot be reached, and retries on the next load', async () => {
    const { client, instance, storage } = setup();
    const tokens = instance.startSession(USER.email);
    storage.setItem(STORED_KEY, JSON.stringify({ refresh_token: tokens.refresh_token, sid: 'ses_1' }));
    instance.offline = true;
    await expect(client.load()).rejects.toBeInstanceOf(NetworkError);
    expect(client.getState().status).toBe('loading');
    expect(storage.getItem(STORED_KEY)).not.toBeNull();
    instance.offline = false;
    expect((await client.load()).status).toBe('signed-in');
  });
});

describe('refresh', () => {
  it('refreshes on a timer shortly before expiry, from the token lifetime', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, instance } = setup({ autoRefresh: true });
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    const first = await client.getAccessToken();
    await vi.advanceTimersByTimeAsync(265_000); // exp - 30 s leeway - up to 2 s jitter is later
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(8_000);
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
    await vi.advanceTimersByTimeAsync(273_000);
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(2);
    client.destroy();
  });

  it('retries a timed refresh that got no answer, with backoff, and reports it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { client, instance, errors } = setup({ autoRefresh: true });
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.offline = true;
    await vi.advanceTimersByTimeAsync(273_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(NetworkError);
    instance.offline = false;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(client.getState().status).toBe('signed-in');
    expect(instance.requests.filter((r) => r.path === '/v1/auth/refresh').length).toBe(2);
    client.destroy();
  });

  it('refreshes on demand when the token is close to expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    const first = await client.getAccessToken();
    vi.advanceTimersByTime(200_000);
    expect(await client.getAccessToken()).toBe(first);
    vi.advanceTimersByTime(75_000);
    expect(await client.getAccessToken()).not.toBe(first);
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
  });

  it.each([
    ['in one tab (memory storage)', 'memory'],
    ['with the cross-tab lease (localStorage)', 'localStorage'],
  ] as const)('shares one refresh among concurrent callers holding an expired token, %s', async (_, kind) => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const instance = FakeInstance.withAda({ refreshDelayMs: 20 });
    const client = createClient({
      apiKey: 'ask_test_k',
      baseUrl: BASE,
      storage: kind,
      fetch: instance.fetch,
      autoRefresh: false,
      environment: { localStorage: memoryStorage(), BroadcastChannel: null, locks: null, onStorage: null },
    });
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    vi.advanceTimersByTime(301_000); // expired
    const users = await Promise.all(Array.from({ length: 10 }, () => client.me.get()));
    expect(users).toHaveLength(10);
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(instance.count('GET', '/v1/me')).toBe(10);
    expect([...instance.sessions.values()][0]!.revoked).toBe(false);
  });

  it('refreshes once on a 401 and sends again', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    let rejected = 0;
    instance.routes.set('GET /v1/me', (req) => {
      if (rejected++ === 0) return new Response(JSON.stringify({ error: 'unauthorized', message: 'expired' }), { status: 401 });
      return new Response(JSON.stringify(USER), { status: 200, headers: { 'x-token': req.headers.authorization! } });
    });
    expect(await client.me.get()).toEqual(USER);
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
    const [first, second] = instance.requests.filter((r) => r.path === '/v1/me');
    expect(first!.headers.authorization).not.toBe(second!.headers.authorization);
  });

  it('gives up after one refresh when the retry is refused too', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.routes.set('GET /v1/me', () => new Response(JSON.stringify({ error: 'unauthorized', message: 'no' }), { status: 401 }));
    await expect(client.me.get()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(instance.count('GET', '/v1/me')).toBe(2);
  });

  it('does not refresh on a 401 that is about the API key', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.routes.set('GET /v1/me', () => new Response(JSON.stringify({ error: 'invalid_api_key', message: 'no' }), { status: 401 }));
    await expect(client.me.get()).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect(instance.count('POST', '/v1/auth/refresh')).toBe(0);
  });

  it('signs out when the refresh token was revoked elsewhere', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { client, instance, storage } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    for (const session of instance.sessions.values()) session.revoked = true;
    vi.advanceTimersByTime(301_000);
    await expect(client.me.get()).rejects.toMatchObject({ code: 'invalid_grant' });
    expect(client.getState().status).toBe('signed-out');
    expect(storage.getItem(STORED_KEY)).toBeNull();
  });
});

describe('sign-out', () => {
  it('revokes the refresh token (RFC 7009 form) and forgets the session', async () => {
    const { client, instance, storage } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    const refreshToken = JSON.parse(storage.getItem(STORED_KEY)!).refresh_token;
    await client.auth.signOut();
    const revoke = instance.requests.at(-1)!;
    expect(revoke.path).toBe('/v1/auth/revoke');
    expect(revoke.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(revoke.body).toEqual({ token: refreshToken, token_type_hint: 'refresh_token' });
    expect(client.getState().status).toBe('signed-out');
    expect(storage.getItem(STORED_KEY)).toBeNull();
    expect(await client.getAccessToken()).toBeNull();
    expect([...instance.sessions.values()][0]!.revoked).toBe(true);
  });

  it('ends every session with scope global', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    await client.auth.signOut({ scope: 'global' });
    const logout = instance.requests.at(-1)!;
    expect([logout.path, logout.body]).toEqual(['/v1/auth/logout', { scope: 'global' }]);
    expect(logout.headers.authorization).toMatch(/^Bearer /);
    expect(client.getState().status).toBe('signed-out');
  });

  it('signs out here even when the instance cannot be told, and says so', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.offline = true;
    await expect(client.auth.signOut()).rejects.toBeInstanceOf(NetworkError);
    expect(client.getState().status).toBe('signed-out');
  });

  it('signs out after deleting the account', async () => {
    const { client, instance } = setup();
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    instance.routes.set('DELETE /v1/me', () => new Response(null, { status: 204 }));
    await client.me.delete({ password: PASSWORD });
    expect(instance.requests.at(-1)!.body).toEqual({ password: PASSWORD });
    expect(client.getState().status).toBe('signed-out');
  });
});

describe('server rendering', () => {
  it('touches no browser global at import, in createClient, or ever with memory storage', async () => {
    const touched: string[] = [];
    const globals = ['localStorage', 'sessionStorage', 'BroadcastChannel', 'navigator', 'addEventListener'] as const;
    const saved = globals.map((name) => Object.getOwnPropertyDescriptor(globalThis, name));
    for (const name of globals) {
      Object.defineProperty(globalThis, name, {
        configurable: true,
        get() {
          touched.push(name);
          return undefined;
        },
      });
    }
    try {
      const module = await import('./index');
      const instance = FakeInstance.withAda();
      const browserish = module.createClient({ apiKey: 'k', baseUrl: BASE, storage: 'localStorage', fetch: instance.fetch });
      expect(browserish.getState().status).toBe('loading');
      expect(touched).toEqual([]);
      const server = module.createClient({ apiKey: 'k', baseUrl: BASE, storage: 'memory', fetch: instance.fetch, autoRefresh: false });
      await server.load();
      await server.auth.signIn({ email: USER.email, password: PASSWORD });
      await server.me.get();
      await server.auth.signOut();
      expect(touched).toEqual([]);
    } finally {
      globals.forEach((name, i) => {
        const descriptor = saved[i];
        if (descriptor) Object.defineProperty(globalThis, name, descriptor);
        else delete (globalThis as Record<string, unknown>)[name];
      });
    }
  });

  it('falls back to memory, and says so, where the chosen storage is missing', async () => {
    const instance = FakeInstance.withAda();
    const errors: unknown[] = [];
    const client = createClient({
      apiKey: 'k',
      baseUrl: BASE,
      storage: 'sessionStorage',
      fetch: instance.fetch,
      autoRefresh: false,
      environment: { sessionStorage: null, BroadcastChannel: null, locks: null, onStorage: null },
      onError: (e) => errors.push(e),
    });
    await client.load();
    expect(String(errors[0])).toMatch(/sessionStorage is not available/);
    await client.auth.signIn({ email: USER.email, password: PASSWORD });
    expect(client.getState().status).toBe('signed-in');
  });
});
