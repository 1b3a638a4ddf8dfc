import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthStackClient } from './api';
import { createClient } from './client';
import { type ClientEnvironment, memoryStorage } from './environment';
import { FakeInstance, USER } from '../../../test-support/fake-instance';
import { fakeBroadcastBus, fakeLocks, sharedStorage } from './browser.test-support';

const PASSWORD = 'correct horse battery';

/** Tabs of one browser: shared localStorage, BroadcastChannel and locks, as configured. */
function browser(options: { locks?: boolean; broadcast?: boolean | 'node'; refreshDelayMs?: number } = {}) {
  const instance = FakeInstance.withAda({ refreshDelayMs: options.refreshDelayMs ?? 15 });
  const storage = sharedStorage();
  const locks = options.locks === false ? null : fakeLocks();
  const Channel =
    options.broadcast === false
      ? null
      : options.broadcast === 'node'
        ? (globalThis.BroadcastChannel as unknown as ClientEnvironment['BroadcastChannel'])
        : fakeBroadcastBus();
  const tabs: AuthStackClient[] = [];
  const errors: unknown[] = [];
  const open = (extra: Partial<ClientEnvironment> = {}, crossTab = true) => {
    const { storage: localStorage, onStorage } = storage.tab();
    const tab = createClient({
      apiKey: 'ask_test_tabs',
      baseUrl: 'http://127.0.0.1:7401',
      storage: extra.sessionStorage ? 'sessionStorage' : 'localStorage',
      fetch: instance.fetch,
      autoRefresh: false,
      crossTab,
      environment: { localStorage, onStorage, locks, BroadcastChannel: Channel, ...extra },
      onError: (e) => errors.push(e),
    });
    tabs.push(tab);
    return tab;
  };
  /** Opens `n` tabs and waits until each has loaded, as a page does on mount. */
  const openLoaded = async (n: number) => {
    const opened = Array.from({ length: n }, () => open());
    await Promise.all(opened.map((tab) => tab.load()));
    return opened as [AuthStackClient, AuthStackClient, ...AuthStackClient[]];
  };
  return { instance, storage, locks, open, openLoaded, tabs, errors };
}

const settle = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));
let cleanup: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const fn of cleanup) fn();
  cleanup = [];
});

function expire(seconds = 301) {
  const now = Date.now();
  vi.useFakeTimers({ toFake: ['Date'], now: now + seconds * 1000 });
}

describe.each([
  ['Web Locks and BroadcastChannel', { locks: true, broadcast: true }],
  ["Node's real BroadcastChannel", { locks: true, broadcast: 'node' }],
] as const)('tabs with %s', (_, options) => {
  it('sign-in in one tab signs in the others, without another refresh', async () => {
    const b = browser(options);
    const [one, two] = await b.openLoaded(2);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle();
    expect(two.getState()).toMatchObject({ status: 'signed-in', sessionId: one.getState().sessionId, user: USER });
    expect(await two.getAccessToken()).toBe(await one.getAccessToken());
    expect(b.instance.count('POST', '/v1/auth/refresh')).toBe(0);
  });

  it('spends the refresh token once when every tab needs a new access token at the same moment', async () => {
    const b = browser(options);
    const tabs = await b.openLoaded(3);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await tabs[0]!.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle();
    expire();
    const answers = await Promise.all(tabs.flatMap((tab) => [tab.me.get(), tab.me.get()]));
    expect(answers).toHaveLength(6);
    expect(b.instance.count('POST', '/v1/auth/refresh')).toBe(1);
    expect([...b.instance.sessions.values()][0]!.revoked).toBe(false);
    const tokens = await Promise.all(tabs.map((t) => t.getAccessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(b.errors).toEqual([]);
  });

  it("a refresh in one tab updates the others' access token", async () => {
    const b = browser(options);
    const [one, two] = await b.openLoaded(2);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle();
    const before = await two.getAccessToken();
    await one.auth.refresh();
    await settle();
    const after = await two.getAccessToken();
    expect(after).not.toBe(before);
    expect(after).toBe(await one.getAccessToken());
    expect(b.instance.count('POST', '/v1/auth/refresh')).toBe(1);
  });

  it("a change to the user reaches the other tabs' state", async () => {
    const b = browser(options);
    const [one, two] = await b.openLoaded(2);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle();
    b.instance.routes.set('PATCH /v1/me', () => new Response(JSON.stringify({ ...USER, name: 'Ada Lovelace' }), { status: 200 }));
    await one.me.update({ name: 'Ada Lovelace' });
    await settle();
    expect(two.getState().user?.name).toBe('Ada Lovelace');
  });

  it('organization switch and sign-out reach every tab', async () => {
    const b = browser(options);
    const [one, two] = await b.openLoaded(2);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await one.organizations.switch('org_1');
    await settle();
    expect(two.getState()).toMatchObject({ organizationId: 'org_1', role: 'admin' });
    await two.auth.signOut();
    await settle();
    expect(one.getState().status).toBe('signed-out');
    expect(await one.getAccessToken()).toBeNull();
  });
});

describe('tabs without Web Locks or BroadcastChannel (storage lease and storage events)', () => {
  it('never spends a refresh token twice', async () => {
    const b = browser({ locks: false, broadcast: false });
    const tabs = await b.openLoaded(3);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await tabs[0]!.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle(200);
    expect(tabs.map((t) => t.getState().status)).toEqual(['signed-in', 'signed-in', 'signed-in']);
    const refreshesToSignIn = b.instance.count('POST', '/v1/auth/refresh');
    expire();
    await Promise.all(tabs.flatMap((tab) => [tab.me.get(), tab.me.get()]));
    const session = [...b.instance.sessions.values()][0]!;
    expect(session.revoked).toBe(false);
    // Each tab that finds the token expired rotates the newest one, one after another.
    expect(b.instance.count('POST', '/v1/auth/refresh') - refreshesToSignIn).toBeLessThanOrEqual(3);
    expect(b.errors).toEqual([]);
  });

  it('sign-out in one tab signs out the others', async () => {
    const b = browser({ locks: false, broadcast: false });
    const [one, two] = await b.openLoaded(2);
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle(200);
    expect(two.getState().status).toBe('signed-in');
    await one.auth.signOut();
    await settle();
    expect(two.getState().status).toBe('signed-out');
  });

  it('without any lock, two tabs spend the same token and the instance revokes the session (the hazard the lock prevents)', async () => {
    const b = browser({ locks: false, broadcast: false });
    const [one, two] = [b.open({}, false), b.open({}, false)];
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await two.load();
    expect(b.instance.count('POST', '/v1/auth/refresh')).toBe(1);
    expire();
    const results = await Promise.allSettled([one.me.get(), two.me.get()]);
    expect(results.map((r) => r.status)).toContain('rejected');
    expect([...b.instance.sessions.values()][0]!.revoked).toBe(true);
  });
});

describe('tabs on sessionStorage', () => {
  it("keeps separate tabs' sessions apart", async () => {
    const b = browser();
    const one = b.open({ sessionStorage: memoryStorage() });
    const two = b.open({ sessionStorage: memoryStorage() });
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    await two.auth.signIn({ email: USER.email, password: PASSWORD });
    await settle();
    expect(one.getState().sessionId).not.toBe(two.getState().sessionId);
    await one.auth.signOut();
    await settle();
    expect(two.getState().status).toBe('signed-in');
  });

  it('keeps a duplicated tab (same session) on the rotated token', async () => {
    const b = browser();
    const first = memoryStorage();
    const one = b.open({ sessionStorage: first });
    cleanup.push(() => b.tabs.forEach((t) => t.destroy()));
    await one.auth.signIn({ email: USER.email, password: PASSWORD });
    const copy = memoryStorage();
    for (const key of ['authstack:ask_test_tabs:session']) copy.setItem(key, first.getItem(key)!);
    const two = b.open({ sessionStorage: copy }); // the browser copies sessionStorage on duplication
    await two.load();
    await settle();
    await one.auth.refresh();
    await settle();
    expect(copy.getItem('authstack:ask_test_tabs:session')).toBe(first.getItem('authstack:ask_test_tabs:session'));
    expire();
    await two.me.get();
    expect([...b.instance.sessions.values()][0]!.revoked).toBe(false);
  });
});
