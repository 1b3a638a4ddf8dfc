// The BFF's redirect flow against a real instance: an Express app on loopback is a `web`
// application of the instance; the browser's part (following redirects, the hosted sign-in
// form, cookies) is plain fetch.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInstance, browserSignIn, setCookiePair, startInstance } from '../../../test-support/authstack-instance';
import { type BffRedirectOptions, createBff } from './bff';
import { requireAuth } from './express';
import { sealingKey, unseal } from './seal';

let instance: RunningInstance;
let user: { id: string; email: string; password: string };
let server: Server;
let origin: string;
let application: { id: string; client_secret?: string };
const secret = randomBytes(32).toString('base64');
/** Paths the BFF fetched, with the grant type for the token endpoint. */
let calls: string[] = [];
let options: Partial<BffRedirectOptions> = {};
let bff: ReturnType<typeof createBff>;

beforeAll(async () => {
  instance = await startInstance();
  user = await instance.verifiedUser();
  const app = express();
  // One BFF per test (options change); the app routes to the current one.
  app.use('/auth', (req, res, next) => bff.router()(req, res, next));
  app.use('/api', (req, res, next) => bff.session()(req, res, next));
  app.get('/api/me', requireAuth(), (req, res) =>
    void res.json({ auth: req.auth!.claims, clientId: req.auth!.clientId, email: req.auth!.email, user: req.user }),
  );
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  application = await instance.createApplication({
    name: 'BFF',
    kind: 'web',
    redirect_uris: [`${origin}/auth/callback`],
    post_logout_redirect_uris: [`${origin}/signed-out`],
  });
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await instance?.stop();
});

function use(extra: Partial<BffRedirectOptions> = {}) {
  calls = [];
  options = {
    issuer: instance.issuer,
    clientId: application.id,
    clientSecret: application.client_secret!,
    redirectUri: `${origin}/auth/callback`,
    postLogoutRedirectUri: `${origin}/signed-out`,
    secret,
    secure: false,
    onError: () => undefined,
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const grant = init?.body ? new URLSearchParams(String(init.body)).get('grant_type') : null;
      calls.push(grant ? `${url.pathname} ${grant}` : url.pathname);
      return fetch(input, init);
    },
    ...extra,
  };
  bff = createBff(options as BffRedirectOptions);
}

const get = (path: string, cookie?: string) =>
  fetch(origin + path, { redirect: 'manual', headers: cookie ? { cookie } : {} });

/** GET /auth/login, the hosted sign-in, and the callback URL (not yet followed). */
async function startLogin(query = '') {
  const login = await get(`/auth/login${query}`);
  expect(login.status).toBe(303);
  const authCookie = setCookiePair(login, 'authstack_session_auth')!;
  const authorize = new URL(login.headers.get('location')!);
  const callback = await browserSignIn(authorize.toString(), user.email, user.password);
  return { login, authCookie, authorize, callback };
}

async function signIn(query = '') {
  const started = await startLogin(query);
  const answer = await get(started.callback.pathname + started.callback.search, started.authCookie);
  expect(answer.status, await answer.clone().text()).toBe(303);
  const session = setCookiePair(answer, 'authstack_session')!;
  return { ...started, answer, session, sso: browserSignIn.sso };
}

const opened = (session: string) =>
  unseal<{ at: string; rt: string; it: string; csrf: string }>(
    sealingKey(secret),
    'authstack_session',
    decodeURIComponent(session.slice(session.indexOf('=') + 1)),
  )!;

describe('BFF redirect flow', () => {
  it('redirects to the discovered authorization endpoint with PKCE S256, state and nonce', async () => {
    use({ organization: undefined });
    const login = await get('/auth/login?returnTo=/dashboard');
    const to = new URL(login.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(`${instance.issuer}/oauth2/authorize`);
    const q = Object.fromEntries(to.searchParams);
    expect(q).toMatchObject({
      response_type: 'code',
      client_id: application.id,
      redirect_uri: `${origin}/auth/callback`,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
    });
    expect(q.state).toMatch(/^[\w-]{43}$/);
    expect(q.nonce).toMatch(/^[\w-]{43}$/);
    expect(q.code_challenge).toMatch(/^[\w-]{43}$/);
    const set = login.headers.getSetCookie().find((c) => c.startsWith('authstack_session_auth='))!;
    expect(set).toMatch(/HttpOnly; SameSite=Lax; Max-Age=600/);
    expect(calls).toEqual(['/.well-known/openid-configuration']);
  });

  it('signs in, seals the tokens, and serves authenticated requests (aud = client id)', async () => {
    use();
    const { answer, session } = await signIn('?returnTo=/dashboard');
    expect(answer.headers.get('location')).toBe('/dashboard');
    expect(answer.headers.getSetCookie().find((c) => c.startsWith('authstack_session_auth='))).toMatch(/Max-Age=0/);
    const set = answer.headers.getSetCookie().find((c) => c.startsWith('authstack_session='))!;
    expect(set).toMatch(/HttpOnly; SameSite=Lax; Max-Age=2592000/);
    // Browsers keep cookies up to 4096 bytes (name, value and attributes).
    console.info(`sealed session cookie: ${set.length} bytes with attributes, ${session.length} name=value`);
    expect(set.length).toBeLessThan(4096);
    const tokens = opened(session);
    expect(tokens.it).toMatch(/^eyJ/);
    expect(tokens.rt).toMatch(/^rt_/);

    const me = await get('/api/me', session);
    expect(me.status).toBe(200);
    const body = await me.json();
    expect(body.auth).toMatchObject({ aud: application.id, client_id: application.id, sub: user.id, iss: instance.issuer });
    expect(body.user).toEqual({ id: user.id, email: user.email, name: 'Redirect User' });
    expect([body.clientId, body.email]).toEqual([application.id, null]);
    expect(calls).toContain('/oauth2/token authorization_code');
  });

  it('refreshes through the token endpoint once for concurrent requests, and the new cookie works', async () => {
    use();
    const { session } = await signIn();
    use({ refreshLeewaySec: 100_000 }); // every access token is now "near expiry"
    const answers = await Promise.all(Array.from({ length: 5 }, () => get('/api/me', session)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(calls.filter((c) => c === '/oauth2/token refresh_token')).toHaveLength(1);
    const renewed = setCookiePair(answers[0]!, 'authstack_session')!;
    expect(opened(renewed).rt).not.toBe(opened(session).rt);
    expect(opened(renewed).it).toBe(opened(session).it);
    use();
    expect((await get('/api/me', renewed)).status).toBe(200);
  });

  it('logs out: CSRF required, refresh token revoked, then the end-session endpoint with the ID token hint', async () => {
    use();
    const { session, sso } = await signIn();
    const { rt, it: idToken, csrf } = opened(session);
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/auth/logout`, { method: 'POST', redirect: 'manual', headers: { cookie: session, ...headers } });
    expect((await post({})).status).toBe(403);
    const out = await post({ 'content-type': 'application/x-www-form-urlencoded', 'x-csrf-token': csrf });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie().find((c) => c.startsWith('authstack_session='))).toMatch(/Max-Age=0/);
    expect(calls).toContain('/oauth2/revoke');
    const end = new URL(out.headers.get('location')!);
    expect(end.origin + end.pathname).toBe(`${instance.issuer}/oauth2/logout`);
    expect(Object.fromEntries(end.searchParams)).toEqual({
      client_id: application.id,
      id_token_hint: idToken,
      post_logout_redirect_uri: `${origin}/signed-out`,
    });
    // The refresh token is dead (introspection by the application itself).
    const introspected = await fetch(`${instance.issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${application.id}:${application.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: rt }),
    });
    expect(await introspected.json()).toEqual({ active: false });
    // The browser follows: the instance ends the sign-in without asking and comes back.
    const ended = await fetch(end, { redirect: 'manual', headers: { cookie: sso! } });
    expect([ended.status, ended.headers.get('location')]).toEqual([303, `${origin}/signed-out`]);
  });
});

describe('BFF redirect flow refuses', () => {
  it('a callback whose state is not the one of this browser (login CSRF)', async () => {
    use();
    const { callback, authCookie } = await startLogin();
    callback.searchParams.set('state', 'x'.repeat(43));
    const answer = await get(callback.pathname + callback.search, authCookie);
    expect([answer.status, (await answer.json()).error]).toEqual([400, 'state_mismatch']);
    expect(setCookiePair(answer, 'authstack_session')).toBeUndefined();
  });

  it('a callback without the login cookie, and a second use of it', async () => {
    use();
    const { callback, authCookie } = await startLogin();
    const bare = await get(callback.pathname + callback.search);
    expect([bare.status, (await bare.json()).error]).toEqual([400, 'login_expired']);
    // Another BFF secret cannot open the cookie either.
    const other = await get(callback.pathname + callback.search, authCookie.replace(/=.{8}/, '=AAAAAAAA'));
    expect((await other.json()).error).toBe('login_expired');
  });

  it('an answer naming another issuer (mix-up)', async () => {
    use();
    const { callback, authCookie } = await startLogin();
    expect(callback.searchParams.get('iss')).toBe(instance.issuer);
    callback.searchParams.set('iss', 'https://evil.example');
    const answer = await get(callback.pathname + callback.search, authCookie);
    expect([answer.status, (await answer.json()).error]).toEqual([400, 'issuer_mismatch']);
    expect(calls).not.toContain('/oauth2/token authorization_code');
  });

  it('an off-site returnTo (open redirect): back to afterLogin', async () => {
    use({ afterLogin: '/home' });
    for (const target of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      const { answer } = await signIn(`?returnTo=${encodeURIComponent(target)}`);
      expect(answer.headers.get('location')).toBe('/home');
    }
  });

  it("the provider's error=access_denied (not a member of the organization), to loginErrorPage", async () => {
    use({ loginErrorPage: '/signin' });
    const { callback, authCookie } = await startLogin('?organization=no-such-org');
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const answer = await get(callback.pathname + callback.search, authCookie);
    expect([answer.status, answer.headers.get('location')]).toEqual([303, '/signin?error=access_denied']);
    expect(setCookiePair(answer, 'authstack_session')).toBeUndefined();
  });
});
