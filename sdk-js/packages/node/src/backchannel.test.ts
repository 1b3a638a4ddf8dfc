// Back-channel logout against a real instance: the BFF is a `web` application whose
// `backchannel_logout_uri` is its own `POST /auth/backchannel-logout`; when the sign-in ends at
// the instance (here: RP-initiated logout from the browser, as another application would do),
// the instance POSTs a logout token and the BFF's cookie stops working at once.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import express from 'express';
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInstance, browserSignIn, setCookiePair, startInstance } from '../../../test-support/authstack-instance';
import { BACKCHANNEL_LOGOUT_EVENT, memoryLogoutStore } from './backchannel';
import { createBff } from './bff';
import { requireAuth } from './express';
import { sealingKey, unseal } from './seal';

let instance: RunningInstance;
let server: Server;
let origin: string;
let application: { id: string; client_secret?: string };
let bff: ReturnType<typeof createBff>;
/** The store the BFF is given (a shared one in a multi-process deployment): what it was told. */
const remembered: string[] = [];
const shared = memoryLogoutStore();
const secret = randomBytes(32).toString('base64');

beforeAll(async () => {
  instance = await startInstance();
  const app = express();
  app.use('/auth', (req, res, next) => bff.router()(req, res, next));
  app.get('/api/me', (req, res, next) => bff.session()(req, res, next), requireAuth(), (req, res) => void res.json({ user: req.user }));
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  application = await instance.createApplication({
    name: 'BFF with back-channel logout',
    kind: 'web',
    redirect_uris: [`${origin}/auth/callback`],
    backchannel_logout_uri: `${origin}/auth/backchannel-logout`,
  });
  bff = createBff({
    issuer: instance.issuer,
    clientId: application.id,
    clientSecret: application.client_secret!,
    redirectUri: `${origin}/auth/callback`,
    secret,
    secure: false,
    onError: () => undefined,
    logoutStore: {
      add: (key, until) => (remembered.push(key), shared.add(key, until)),
      has: (key) => shared.has(key),
    },
  });
}, 60_000);
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await instance?.stop();
});

const get = (path: string, cookie?: string) => fetch(origin + path, { redirect: 'manual', headers: cookie ? { cookie } : {} });

async function signIn() {
  const user = await instance.verifiedUser();
  const login = await get('/auth/login');
  const authCookie = setCookiePair(login, 'authstack_session_auth')!;
  const callback = await browserSignIn(login.headers.get('location')!, user.email, user.password);
  const answer = await get(callback.pathname + callback.search, authCookie);
  expect(answer.status).toBe(303);
  const session = setCookiePair(answer, 'authstack_session')!;
  const sealed = unseal<{ it: string; sid: string }>(
    sealingKey(secret),
    'authstack_session',
    decodeURIComponent(session.slice(session.indexOf('=') + 1)),
  )!;
  return { session, sso: browserSignIn.sso!, idToken: sealed.it, sid: sealed.sid };
}

const postToken = (body: string) =>
  fetch(`${origin}/auth/backchannel-logout`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });

describe('BFF back-channel logout', () => {
  it('ends the session when the sign-in ends at the instance, before any refresh', async () => {
    const { session, sso, idToken, sid } = await signIn();
    expect(sid).toBe(decodeJwt(idToken).sid);
    expect((await get('/api/me', session)).status).toBe(200);
    // Signed out at the instance by the browser (as from another application): the BFF's
    // access token is still unexpired, only the logout token can tell it.
    const out = await fetch(`${instance.issuer}/oauth2/logout?id_token_hint=${idToken}`, { redirect: 'manual', headers: { cookie: sso } });
    expect(out.status).toBe(200);
    let status = 200;
    for (let i = 0; i < 100 && status === 200; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = (await get('/api/me', session)).status;
    }
    expect(status).toBe(401);
    expect(remembered).toEqual([`sid:${sid}`]);
    // Another sign-in of the same user is not affected.
    const again = await signIn();
    expect((await get('/api/me', again.session)).status).toBe(200);
  });

  it('refuses what is not a logout token of this instance for this application', async () => {
    const { idToken, session } = await signIn();
    expect((await postToken('')).status).toBe(400);
    // An ID token is no logout token (typ JWT, no event, a nonce).
    const id = await postToken(`logout_token=${idToken}`);
    expect([id.status, (await id.json()).error]).toEqual([400, 'invalid_request']);
    // Signed by another key, with every claim right.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await new SignJWT({ sid: decodeJwt(idToken).sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } })
      .setProtectedHeader({ alg: 'RS256', typ: 'logout+jwt', kid: 'forged' })
      .setIssuer(instance.issuer)
      .setAudience(application.id)
      .setIssuedAt()
      .setJti(randomBytes(8).toString('hex'))
      .sign(privateKey);
    expect((await postToken(`logout_token=${forged}`)).status).toBe(400);
    expect((await get('/api/me', session)).status).toBe(200);
  });
});

describe('memoryLogoutStore', () => {
  it('forgets an ended sign-in once no session of it can be alive', () => {
    let now = 1_000;
    const store = memoryLogoutStore(() => now);
    store.add('sid:a', 2_000);
    expect(store.has('sid:a')).toBe(true);
    expect(store.has('sid:b')).toBe(false);
    now = 2_000;
    expect(store.has('sid:a')).toBe(false);
  });
});
