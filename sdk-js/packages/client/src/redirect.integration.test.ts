// signInWithRedirect and handleRedirectCallback against a real instance (the repository's
// authstack-instance binary), as a public `spa` application: the browser's part (the hosted
// sign-in form) is plain fetch, sessionStorage is in memory, navigation is recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInstance, browserSignIn, startInstance } from '../../../test-support/authstack-instance';
import { createClient } from './client';
import { memoryStorage } from './environment';
import { AuthStackError } from './errors';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SIGNED_OUT = 'http://127.0.0.1:9/signed-out';
let instance: RunningInstance;
let clientId: string;
let user: { id: string; email: string; password: string };

beforeAll(async () => {
  instance = await startInstance();
  const app = await instance.createApplication({
    name: 'SPA',
    kind: 'spa',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [SIGNED_OUT],
  });
  expect(app.client_secret).toBeUndefined();
  clientId = app.id;
  user = await instance.verifiedUser();
}, 60_000);
afterAll(() => instance?.stop());

function tab() {
  const navigated: string[] = [];
  const requests: { url: string; body: string; headers: Record<string, string> }[] = [];
  const client = createClient({
    apiKey: 'ask_test_unused_by_a_bare_instance',
    baseUrl: instance.url,
    storage: 'sessionStorage',
    autoRefresh: false,
    environment: {
      sessionStorage: memoryStorage(),
      localStorage: null,
      BroadcastChannel: null,
      locks: null,
      onStorage: null,
      navigate: (url) => void navigated.push(url),
    },
    fetch: (input, init) => {
      requests.push({ url: String(input), body: String(init?.body ?? ''), headers: (init?.headers ?? {}) as Record<string, string> });
      return fetch(input, init);
    },
  });
  return { client, navigated, requests };
}

async function redirectedBack(organization?: string) {
  const t = tab();
  await t.client.auth.signInWithRedirect({
    issuer: instance.issuer,
    clientId,
    redirectUri: REDIRECT_URI,
    returnTo: '/projects',
    ...(organization ? { organization } : {}),
  });
  const authorize = new URL(t.navigated[0]!);
  const callback = await browserSignIn(authorize.toString(), user.email, user.password);
  return { ...t, authorize, callback, sso: browserSignIn.sso! };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (error instanceof AuthStackError ? error.code : String(error)),
  );

describe('signInWithRedirect against a real instance', () => {
  it('signs in with PKCE, refreshes at the token endpoint, and signs out at the provider', async () => {
    const { client, authorize, callback, requests, navigated, sso } = await redirectedBack();
    expect(authorize.origin + authorize.pathname).toBe(`${instance.issuer}/oauth2/authorize`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('openid profile email');

    const result = await client.auth.handleRedirectCallback(callback.toString());
    expect(result.returnTo).toBe('/projects');
    expect(result.claims).toMatchObject({ sub: user.id, aud: clientId, email: user.email, iss: instance.issuer });
    expect(client.getState()).toMatchObject({ status: 'signed-in', userId: user.id });
    const exchange = requests.find((r) => r.url.endsWith('/oauth2/token'))!;
    const form = new URLSearchParams(exchange.body);
    expect(form.get('client_id')).toBe(clientId);
    expect(form.get('code_verifier')).toMatch(/^[\w-]{43}$/);
    expect(form.get('client_secret')).toBeNull();
    // No custom header on the provider's endpoints: a simple CORS request, no preflight.
    expect(Object.keys(exchange.headers).sort()).toEqual(['accept', 'content-type']);

    const first = await client.getAccessToken();
    await client.auth.refresh();
    const refreshed = requests.filter((r) => r.url.endsWith('/oauth2/token')).map((r) => new URLSearchParams(r.body));
    expect(refreshed.map((f) => f.get('grant_type'))).toEqual(['authorization_code', 'refresh_token']);
    expect(refreshed[1]!.get('client_id')).toBe(clientId);
    expect(requests.some((r) => r.url.includes('/v1/auth/refresh'))).toBe(false);
    const second = await client.getAccessToken();
    expect(second).not.toBe(first);
    const userinfo = await fetch(`${instance.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${second}` } });
    expect((await userinfo.json()).sub).toBe(user.id);

    await client.auth.signOut({ endSession: true, postLogoutRedirectUri: SIGNED_OUT });
    expect(client.getState().status).toBe('signed-out');
    expect(requests.at(-1)!.url).toBe(`${instance.issuer}/oauth2/revoke`);
    // The grant is revoked: its access token no longer reads userinfo.
    const after = await fetch(`${instance.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${second}` } });
    expect(after.status).toBe(401);
    const end = new URL(navigated.at(-1)!);
    expect(end.origin + end.pathname).toBe(`${instance.issuer}/oauth2/logout`);
    const ended = await fetch(end, { redirect: 'manual', headers: { cookie: sso } });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, SIGNED_OUT]);
  });

  it('refuses a second use of the callback, a wrong state, another issuer, and passes access_denied on', async () => {
    const used = await redirectedBack();
    await used.client.auth.handleRedirectCallback(used.callback.toString());
    expect(await rejection(used.client.auth.handleRedirectCallback(used.callback.toString()))).toBe('login_expired');

    const forged = await redirectedBack();
    forged.callback.searchParams.set('state', 'x'.repeat(43));
    expect(await rejection(forged.client.auth.handleRedirectCallback(forged.callback.toString()))).toBe('state_mismatch');

    const mixedUp = await redirectedBack();
    mixedUp.callback.searchParams.set('iss', 'https://evil.example');
    expect(await rejection(mixedUp.client.auth.handleRedirectCallback(mixedUp.callback.toString()))).toBe('issuer_mismatch');
    expect(mixedUp.requests.some((r) => r.url.endsWith('/oauth2/token'))).toBe(false);

    const denied = await redirectedBack('no-such-org');
    expect(await rejection(denied.client.auth.handleRedirectCallback(denied.callback.toString()))).toBe('access_denied');
    expect(denied.client.getState().status).not.toBe('signed-in');
  });
});
