// openid-client, given nothing but an instance's issuer URL, a client id and a secret, signs a
// user in with the authorization-code flow and PKCE against a real `authstack-instance` binary
// (target/debug, SQLite in a temp dir, a free loopback port), validates the ID token and calls
// userinfo; then refreshes, introspects, revokes and ends the session; and a machine application
// gets tokens for itself with client_credentials. The browser's part (following the authorization redirect to the hosted sign-in
// page, reading its CSRF field and cookie, posting the form) is plain fetch.
//
// The instance's issuer is its own http://127.0.0.1:PORT URL: openid-client refuses plain-http
// issuers unless told, so `allowInsecureRequests` is used here — on loopback only.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { PASSWORD, cookie, hidden, startInstance } from './instance.mjs';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

let instance;

before(async () => {
  instance = await startInstance();
});

after(async () => {
  if (instance) await instance.stop();
});

const admin = (pathname, body) => instance.admin(pathname, body);
const verifiedUser = () => instance.verifiedUser();

/** What a browser does between the authorization URL and the callback; returns the callback URL. */
async function signInAsBrowser(authorizationUrl, email) {
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  assert.equal(start.status, 303);
  const loginUrl = new URL(start.headers.get('location'));
  assert.equal(loginUrl.pathname, '/login');
  const page = await fetch(loginUrl, { redirect: 'manual' });
  assert.equal(page.status, 200);
  const html = await page.text();
  const form = new URLSearchParams({
    flow: hidden(html, 'flow'),
    csrf: hidden(html, 'csrf'),
    method: 'password',
    email,
    password: PASSWORD,
  });
  const submitted = await fetch(new URL('login', loginUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie(page, 'authstack_flow') },
    body: form,
  });
  assert.equal(submitted.status, 303, await submitted.text());
  const callback = new URL(submitted.headers.get('location'));
  assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
  signInAsBrowser.sso = cookie(submitted, 'authstack_session');
  return callback;
}

// Loopback only: the instance under test speaks plain http on 127.0.0.1.
const insecureLoopback = { execute: [client.allowInsecureRequests] };

test('a confidential client signs in with code + PKCE and client_secret_basic, then reads userinfo', async () => {
  const app = await admin('/v1/admin/applications', { name: 'openid-client web', kind: 'web', redirect_uris: [REDIRECT_URI] });
  const user = await verifiedUser();
  const config = await client.discovery(
    new URL(instance.issuer),
    app.id,
    undefined,
    client.ClientSecretBasic(app.client_secret),
    insecureLoopback,
  );
  assert.equal(config.serverMetadata().issuer, instance.issuer);

  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await signInAsBrowser(authorizationUrl, user.email);

  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, instance.issuer);
  assert.equal(claims.sub, user.id);
  assert.equal(claims.aud, app.id);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.email, user.email);
  assert.equal(claims.email_verified, true);
  assert.deepEqual(claims.amr, ['pwd']);
  assert.equal(typeof claims.auth_time, 'number');

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.deepEqual(info, { sub: user.id, email: user.email, email_verified: true });
});

test('a public client signs in with PKCE and no client authentication', async () => {
  const app = await admin('/v1/admin/applications', { name: 'openid-client spa', kind: 'spa', redirect_uris: [REDIRECT_URI] });
  assert.equal(app.client_secret, undefined);
  const user = await verifiedUser();
  const config = await client.discovery(new URL(instance.issuer), app.id, undefined, client.None(), insecureLoopback);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
  });
  const callback = await signInAsBrowser(authorizationUrl, user.email);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    idTokenExpected: true,
  });
  assert.equal(tokens.claims().sub, user.id);
  assert.equal(tokens.claims().email, undefined);
  const info = await client.fetchUserInfo(config, tokens.access_token, user.id);
  assert.equal(info.sub, user.id);

  // The same code a second time is refused (and ends the session its tokens belong to).
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state }),
    (err) => err.error === 'invalid_grant' || err.cause?.error === 'invalid_grant',
  );
  await assert.rejects(client.fetchUserInfo(config, tokens.access_token, user.id));
});

test('refresh, introspection, revocation and RP-initiated logout', async () => {
  const SIGNED_OUT = 'http://127.0.0.1:9/signed-out';
  const app = await admin('/v1/admin/applications', {
    name: 'openid-client lifecycle',
    kind: 'web',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [SIGNED_OUT],
  });
  const user = await verifiedUser();
  const config = await client.discovery(
    new URL(instance.issuer),
    app.id,
    undefined,
    client.ClientSecretBasic(app.client_secret),
    insecureLoopback,
  );
  const metadata = config.serverMetadata();
  assert.ok(metadata.revocation_endpoint && metadata.introspection_endpoint && metadata.end_session_endpoint);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const callback = await signInAsBrowser(
    client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    }),
    user.email,
  );
  const sso = signInAsBrowser.sso;
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedState: state });
  assert.ok(tokens.refresh_token);

  // Refresh: openid-client checks the new ID token against the first (same sub, iss, aud).
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  assert.equal(refreshed.claims().sub, user.id);
  assert.equal(refreshed.claims().sid, tokens.claims().sid);
  // The rotated token again: reuse, the grant is revoked.
  await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token));
  await assert.rejects(client.fetchUserInfo(config, refreshed.access_token, user.id));

  // A fresh grant through the SSO session (no password), then introspection and revocation.
  const verifier2 = client.randomPKCECodeVerifier();
  const again = await fetch(
    client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email',
      code_challenge: await client.calculatePKCECodeChallenge(verifier2),
      code_challenge_method: 'S256',
      state,
    }),
    { redirect: 'manual', headers: { cookie: sso } },
  );
  assert.equal(again.status, 303);
  const second = await client.authorizationCodeGrant(config, new URL(again.headers.get('location')), {
    pkceCodeVerifier: verifier2,
    expectedState: state,
  });
  const active = await client.tokenIntrospection(config, second.access_token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, app.id);
  assert.equal(active.sub, user.id);
  await client.tokenRevocation(config, second.refresh_token);
  assert.equal((await client.tokenIntrospection(config, second.access_token)).active, false);
  await assert.rejects(client.refreshTokenGrant(config, second.refresh_token));

  // RP-initiated logout with the ID token as hint: straight back to the registered address.
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: second.id_token,
    post_logout_redirect_uri: SIGNED_OUT,
    state: 'bye',
  });
  const out = await fetch(endSession, { redirect: 'manual', headers: { cookie: sso } });
  assert.equal(out.status, 303, await out.text());
  assert.equal(out.headers.get('location'), `${SIGNED_OUT}?state=bye`);
  // The SSO session is over: prompt=none now answers login_required.
  const silent = await fetch(
    client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      prompt: 'none',
    }),
    { redirect: 'manual', headers: { cookie: sso } },
  );
  assert.equal(new URL(silent.headers.get('location')).searchParams.get('error'), 'login_required');
});

test('a machine application gets an access token for itself with client_credentials', async () => {
  const app = await admin('/v1/admin/applications', {
    name: 'openid-client machine',
    kind: 'machine',
    permissions: ['members:read', 'audit:read'],
  });
  const config = await client.discovery(
    new URL(instance.issuer),
    app.id,
    undefined,
    client.ClientSecretPost(app.client_secret),
    insecureLoopback,
  );
  assert.ok(config.serverMetadata().grant_types_supported.includes('client_credentials'));

  const all = await client.clientCredentialsGrant(config);
  assert.equal(all.token_type.toLowerCase(), 'bearer');
  assert.equal(all.scope, 'members:read audit:read');
  assert.equal(typeof all.expires_in, 'number');
  assert.equal(all.refresh_token, undefined);
  assert.equal(all.id_token, undefined);
  const claims = JSON.parse(Buffer.from(all.access_token.split('.')[1], 'base64url').toString());
  assert.equal(claims.sub, app.id);
  assert.equal(claims.client_id, app.id);
  assert.deepEqual(claims.permissions, ['members:read', 'audit:read']);

  const narrowed = await client.clientCredentialsGrant(config, { scope: 'audit:read' });
  assert.equal(narrowed.scope, 'audit:read');
  await assert.rejects(client.clientCredentialsGrant(config, { scope: 'billing:manage' }), (err) => {
    assert.equal(err.error, 'invalid_scope');
    return true;
  });

  const seen = await client.tokenIntrospection(config, all.access_token);
  assert.equal(seen.active, true);
  assert.equal(seen.client_id, app.id);
  assert.equal(seen.scope, 'members:read audit:read');
  // It names no user: userinfo refuses it.
  await assert.rejects(client.fetchUserInfo(config, all.access_token, app.id));
});
