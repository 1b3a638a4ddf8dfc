// openid-client against an instance of a real `authstack dev`, as a customer's backend meets it:
// first at its address on the gateway (`{gateway}/i/{instance}`), then at a custom domain
// (`auth.acme.test`) that the demo account sets through the control-plane API, proves with a
// DNS TXT record (dnsmasq on loopback answers it) and that the gateway then routes by `Host`.
// Each time: discovery from nothing but the issuer, code + PKCE with client_secret_basic, the ID
// token's `iss`, userinfo, refresh, introspection, revocation and the end-session endpoint, all
// under that issuer. The domain resolves to loopback through the `fetch` given to openid-client
// (and to the browser's part), which connects to 127.0.0.1 with the domain as `Host`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { PASSWORD, browserSignIn } from './instance.mjs';
import { endUserLogin, platformSession, startAuthstack, stopAuthstack, until } from './stack.mjs';

const DOMAIN = 'auth.acme.test';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

let stack;
let session;
let dnsPort;
let dns;
let email;
const accountPath = () => `/v1/accounts/${stack.info.demo.account_id}/instances/live`;

/** A free UDP port on loopback (the DNS server's). */
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** fetch where DOMAIN resolves to 127.0.0.1 (Node's fetch does not let a caller set `Host`). */
function domainFetch(input, init = {}) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.hostname !== DOMAIN) return fetch(input, init);
  const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
  headers.set('host', url.host);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: url.port, path: url.pathname + url.search, method: init.method ?? 'GET', headers: Object.fromEntries(headers) },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const out = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
          const body = [204, 304].includes(res.statusCode) ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status: res.statusCode, headers: out }));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (init.body) req.write(typeof init.body === 'string' ? init.body : init.body.toString());
    req.end();
  });
}

before(async () => {
  dnsPort = await freeUdpPort();
  stack = await startAuthstack({ args: ['--dns-nameserver', `127.0.0.1:${dnsPort}`] });
  const { info } = stack;
  session = await platformSession(info, info.demo.owner_email, info.demo.owner_password, { accountId: info.demo.account_id });
  email = `openid-${Date.now()}@example.com`;
  const issuer = info.demo.example_application.issuer;
  await endUserLogin({
    gatewayUrl: info.gateway_url,
    publishableKey: info.demo.live_publishable_key,
    dataDir: stack.dataDir,
    instanceId: issuer.split('/').at(-1),
    email,
    password: PASSWORD,
  });
});

after(async () => {
  if (dns && dns.exitCode === null) dns.kill('SIGTERM');
  if (stack) await stopAuthstack(stack);
});

/** A `web` application registered through the control plane; its id, secret and issuer. */
async function registerApplication(name) {
  const created = await session.call(`${accountPath()}/applications`, {
    method: 'POST',
    body: { name, kind: 'web', redirect_uris: [REDIRECT_URI] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

/** The whole relying party's part with openid-client, under `issuer`. */
async function signInWithOpenIdClient(issuer, app) {
  const options = { execute: [client.allowInsecureRequests], [client.customFetch]: domainFetch };
  const config = await client.discovery(new URL(issuer), app.id, undefined, client.ClientSecretBasic(app.client_secret), options);
  config[client.customFetch] = domainFetch;
  const metadata = config.serverMetadata();
  assert.equal(metadata.issuer, issuer);
  for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) {
    assert.ok(metadata[endpoint].startsWith(`${issuer}/`), `${endpoint}: ${metadata[endpoint]}`);
  }
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = await browserSignIn(authorizationUrl, email, PASSWORD, domainFetch);
  assert.equal(callback.searchParams.get('iss'), issuer, 'RFC 9207 iss names this issuer');
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, issuer);
  assert.equal(claims.email, email);
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, email);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  const active = await client.tokenIntrospection(config, refreshed.access_token);
  assert.equal(active.active, true);
  assert.equal(active.iss, issuer);
  await client.tokenRevocation(config, refreshed.refresh_token);
  assert.equal((await client.tokenIntrospection(config, refreshed.refresh_token)).active, false);
  const end = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token });
  assert.equal(end.origin + end.pathname, `${issuer}/oauth2/logout`);
  return claims;
}

test('openid-client signs a user in at the instance address on the gateway', async () => {
  const app = await registerApplication('openid-client on the gateway');
  assert.equal(app.issuer, `${stack.info.gateway_url}/i/${app.issuer.split('/').at(-1)}`);
  await signInWithOpenIdClient(app.issuer, app);
});

test('openid-client signs a user in at a verified custom domain, routed by Host', async () => {
  const set = await session.call(`${accountPath()}/domain`, { method: 'PUT', body: { domain: DOMAIN } });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.status, 'pending');
  const { name, value } = set.body.verification;
  const refused = await session.call(`${accountPath()}/domain/verify`, { method: 'POST' });
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.error, 'domain_not_verified');

  const dnsmasq = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p)) ?? 'dnsmasq';
  dns = spawn(
    dnsmasq,
    ['--no-daemon', '--conf-file=/dev/null', `--port=${dnsPort}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', `--local=/${DOMAIN}/`, `--txt-record=${name},${value}`],
    { stdio: 'ignore' },
  );
  const verified = await until('the TXT record to verify the domain', 15_000, async () => {
    const answer = await session.call(`${accountPath()}/domain/verify`, { method: 'POST' });
    return answer.status === 200 ? answer.body : null;
  });
  assert.equal(verified.status, 'verified');
  const gatewayPort = new URL(stack.info.gateway_url).port;
  const issuer = `http://${DOMAIN}:${gatewayPort}`;
  // The instance is re-applied with its new issuer: discovery under the domain says so.
  await until('discovery at the domain to name it as the issuer', 30_000, async () => {
    const doc = await domainFetch(`${issuer}/.well-known/openid-configuration`).catch(() => null);
    return doc?.ok && (await doc.json()).issuer === issuer;
  });
  const app = await registerApplication('openid-client on the custom domain');
  assert.equal(app.issuer, issuer);
  await signInWithOpenIdClient(issuer, app);
});
