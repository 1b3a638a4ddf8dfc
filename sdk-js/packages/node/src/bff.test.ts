import { randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BffOptions, createBff } from './bff';
import { requireAuth, requirePermission } from './express';
import { type RunningInstance, startInstance } from '../../../test-support/authstack-instance';
import { sealingKey, unseal } from './seal';

let instance: RunningInstance;
let user: { email: string; password: string };
const secret = randomBytes(32).toString('base64');

beforeAll(async () => {
  instance = await startInstance();
  user = await instance.signUp();
}, 60_000);
afterAll(() => instance?.stop());

function app(extra: Partial<BffOptions> & { counted?: string[] } = {}) {
  const counted = extra.counted;
  const bff = createBff({
    baseUrl: instance.url,
    secret,
    issuer: instance.issuer,
    audience: instance.audience,
    secure: false,
    fetch: (input, init) => {
      counted?.push(new URL(String(input)).pathname);
      return fetch(input, init);
    },
    onError: () => undefined,
    ...extra,
  });
  const server = express();
  server.use('/auth', bff.router());
  server.use('/api', bff.session());
  server.get('/api/me', requireAuth(), (req, res) => void res.json({ userId: req.auth!.userId, user: req.user }));
  server.post('/api/projects', bff.csrf(), requirePermission('projects:create'), (_req, res) => void res.status(201).end());
  return server;
}

/** Set-Cookie headers as name → { value, attributes }. */
function cookies(response: request.Response): Record<string, { value: string; attributes: string }> {
  const list = (response.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return Object.fromEntries(
    list.map((line) => {
      const [pair, ...attributes] = line.split('; ');
      const eq = pair!.indexOf('=');
      return [pair!.slice(0, eq), { value: decodeURIComponent(pair!.slice(eq + 1)), attributes: attributes.join('; ') }];
    }),
  );
}

const cookieHeader = (jar: Record<string, string>) =>
  Object.entries(jar)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('; ');

async function signIn(server: express.Express) {
  const csrf = await request(server).get('/auth/csrf');
  const jar = { authstack_session_csrf: cookies(csrf).authstack_session_csrf!.value };
  const login = await request(server)
    .post('/auth/login')
    .set('cookie', cookieHeader(jar))
    .send({ email: user.email, password: user.password, _csrf: csrf.body.csrfToken });
  expect(login.status).toBe(200);
  return { session: cookies(login).authstack_session!.value, csrfToken: login.body.csrfToken as string, login };
}

describe('BFF login', () => {
  it('sets HttpOnly, SameSite=Lax, Secure cookies by default', async () => {
    const csrf = await request(app({ secure: undefined })).get('/auth/csrf');
    expect(csrf.body.csrfToken).toMatch(/^[\w-]{43}$/);
    expect(cookies(csrf).authstack_session_csrf!.attributes).toBe('Path=/; HttpOnly; SameSite=Lax; Max-Age=3600; Secure');
  });

  it('refuses a login without the CSRF token of its cookie', async () => {
    const server = app();
    const csrf = await request(server).get('/auth/csrf');
    const noCookie = await request(server).post('/auth/login').send({ email: user.email, password: user.password, _csrf: csrf.body.csrfToken });
    expect([noCookie.status, noCookie.body.error]).toEqual([403, 'csrf_failed']);
    const wrong = await request(server)
      .post('/auth/login')
      .set('cookie', `authstack_session_csrf=${cookies(csrf).authstack_session_csrf!.value}`)
      .send({ email: user.email, password: user.password, _csrf: 'x'.repeat(43) });
    expect(wrong.status).toBe(403);
  });

  it('signs in server-side and seals the tokens into the session cookie', async () => {
    const server = app();
    const { session, login } = await signIn(server);
    expect(login.body.user).toMatchObject({ email: user.email });
    expect(cookies(login).authstack_session!.attributes).toMatch(/HttpOnly; SameSite=Lax; Max-Age=2592000/);
    const opened = unseal<{ at: string; rt: string }>(sealingKey(secret), 'authstack_session', session);
    expect(opened?.at).toMatch(/^eyJ/);
    expect(opened?.rt).toMatch(/^rt_/);
    // The cookie holds neither token in the clear, nor any part of one. (Not a pattern like
    // /eyJ|rt_/: random ciphertext in base64url contains those three characters now and then.)
    for (const token of [opened!.at, ...opened!.at.split('.'), opened!.rt]) expect(session).not.toContain(token);
    expect(unseal(sealingKey(randomBytes(32)), 'authstack_session', session)).toBeNull();
    expect(unseal(sealingKey(secret), 'other_cookie', session)).toBeNull();

    const me = await request(server).get('/api/me').set('cookie', `authstack_session=${encodeURIComponent(session)}`);
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(user.email);
  });

  it('answers a form login with a redirect, to a same-site returnTo only', async () => {
    const server = app();
    const csrf = await request(server).get('/auth/csrf');
    const jar = `authstack_session_csrf=${encodeURIComponent(cookies(csrf).authstack_session_csrf!.value)}`;
    const form = (fields: Record<string, string>) =>
      request(server).post('/auth/login').set('cookie', jar).type('form').send({ ...fields, _csrf: csrf.body.csrfToken });
    const ok = await form({ email: user.email, password: user.password, returnTo: '/dashboard' });
    expect([ok.status, ok.headers.location]).toEqual([303, '/dashboard']);
    const offsite = await form({ email: user.email, password: user.password, returnTo: '//evil.example/x' });
    expect(offsite.headers.location).toBe('/');
    const bad = await form({ email: user.email, password: 'wrong password' });
    expect([bad.status, bad.headers.location]).toEqual([303, '/login?error=invalid_credentials']);
  });

  it("passes the instance's refusal through to a JSON login", async () => {
    const server = app();
    const csrf = await request(server).get('/auth/csrf');
    const response = await request(server)
      .post('/auth/login')
      .set('cookie', `authstack_session_csrf=${encodeURIComponent(cookies(csrf).authstack_session_csrf!.value)}`)
      .set('x-csrf-token', csrf.body.csrfToken)
      .send({ email: user.email, password: 'wrong password' });
    expect([response.status, response.body.error]).toEqual([401, 'invalid_credentials']);
  });
});

describe('BFF session', () => {
  it('treats an altered cookie as no session and clears it', async () => {
    const server = app();
    const { session } = await signIn(server);
    const altered = session.slice(0, 20) + (session[20] === 'A' ? 'B' : 'A') + session.slice(21);
    const response = await request(server).get('/api/me').set('cookie', `authstack_session=${altered}`);
    expect(response.status).toBe(401);
    expect(cookies(response).authstack_session!.attributes).toMatch(/Max-Age=0/);
  });

  it('refreshes a token near expiry transparently, once for concurrent requests, and re-seals the cookie', async () => {
    const counted: string[] = [];
    const server = app({ refreshLeewaySec: 100_000, counted }); // every access token is "near expiry"
    const { session } = await signIn(server);
    const jar = `authstack_session=${encodeURIComponent(session)}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(server).get('/api/me').set('cookie', jar)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(counted.filter((p) => p === '/v1/auth/refresh')).toHaveLength(1);
    const renewed = cookies(answers[0]!).authstack_session!.value;
    expect(renewed).not.toBe(session);
    const before = unseal<{ rt: string }>(sealingKey(secret), 'authstack_session', session)!;
    const after = unseal<{ rt: string }>(sealingKey(secret), 'authstack_session', renewed)!;
    expect(after.rt).not.toBe(before.rt);
    // The rotated cookie keeps working: the session was not revoked by a reuse.
    const next = await request(server).get('/api/me').set('cookie', `authstack_session=${encodeURIComponent(renewed)}`);
    expect(next.status).toBe(200);
  });

  it('requires the session CSRF token on state-changing routes', async () => {
    const server = app();
    const { session, csrfToken } = await signIn(server);
    const jar = `authstack_session=${encodeURIComponent(session)}`;
    expect((await request(server).post('/api/projects').set('cookie', jar)).status).toBe(403);
    // With the token, the guard decides: no organization selected, so no projects:create.
    const guarded = await request(server).post('/api/projects').set('cookie', jar).set('x-csrf-token', csrfToken);
    expect([guarded.status, guarded.body.error]).toEqual([403, 'forbidden']);
  });
});

describe('BFF logout', () => {
  it('needs the CSRF token, clears the cookie and revokes the refresh token', async () => {
    const server = app();
    const { session, csrfToken } = await signIn(server);
    const jar = `authstack_session=${encodeURIComponent(session)}`;
    expect((await request(server).post('/auth/logout').set('cookie', jar)).status).toBe(403);
    const out = await request(server).post('/auth/logout').set('cookie', jar).set('x-csrf-token', csrfToken);
    expect(out.status).toBe(204);
    expect(cookies(out).authstack_session!.attributes).toMatch(/Max-Age=0/);
    const { rt } = unseal<{ rt: string }>(sealingKey(secret), 'authstack_session', session)!;
    const refresh = await fetch(`${instance.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: rt }),
    });
    expect(refresh.status).toBe(400);
    expect((await refresh.json()).error).toBe('invalid_grant');
  });

  it('rejects a sealing secret that is not 32 bytes', () => {
    expect(() => createBff({ baseUrl: instance.url, secret: 'short', issuer: 'i', audience: 'a' })).toThrow(/32 bytes/);
  });
});
