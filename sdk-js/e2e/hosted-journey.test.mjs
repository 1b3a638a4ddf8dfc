// The redirect integration in real headless Chromium against a real `authstack dev`, through
// the gateway's instance address (`{gateway}/i/{instance}`): the demo's server side
// (examples/saas-demo/server.mjs, a BFF on @authstack/node) runs as two applications of the
// demo's live instance, registered through the control-plane API. A user signs in to the
// first on the instance's hosted sign-in page; the second signs them in without a password (the
// instance's SSO session); signing out of the first ends the sign-in at the instance, and the
// second learns it by back-channel logout: its next page shows the user signed out. Screenshots
// go to e2e/artifacts/hosted-journey/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../examples/saas-demo/server.mjs';
import { endUserLogin, freePort, launchChromium, platformSession, startAuthstack, stopAuthstack, until } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts', 'hosted-journey');
const PASSWORD = 'a long enough passphrase 42';

let stack;
let browser;
let issuer;
const apps = {};
const user = { email: `hosted-${Date.now()}@example.com` };

/** Registers a `web` application for a server on `port` and starts that server. */
async function application(session, name, cookieName) {
  const port = await freePort();
  const origin = `http://localhost:${port}`;
  const created = await session.call(`/v1/accounts/${stack.info.demo.account_id}/instances/live/applications`, {
    method: 'POST',
    body: {
      name,
      kind: 'web',
      redirect_uris: [`${origin}/callback`],
      post_logout_redirect_uris: [`${origin}/`],
      backchannel_logout_uri: `${origin}/backchannel-logout`,
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.backchannel_logout_uri, `${origin}/backchannel-logout`);
  issuer = created.body.issuer;
  const server = await startServer({
    issuer,
    clientId: created.body.id,
    clientSecret: created.body.client_secret,
    port,
    name,
    cookieName,
  });
  assert.equal(server.origin, origin);
  return server;
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startAuthstack();
  const { info } = stack;
  const session = await platformSession(info, info.demo.owner_email, info.demo.owner_password, { accountId: info.demo.account_id });
  apps.first = await application(session, 'Acme SaaS', 'acme_session');
  apps.second = await application(session, 'Acme Analytics', 'analytics_session');
  await endUserLogin({
    gatewayUrl: info.gateway_url,
    publishableKey: info.demo.live_publishable_key,
    dataDir: stack.dataDir,
    // The issuer is the instance's address on the gateway: `{gateway}/i/{instance id}`.
    instanceId: issuer.split('/').at(-1),
    email: user.email,
    password: PASSWORD,
    name: 'Hosted Journey',
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const app of Object.values(apps)) await app.close();
  if (stack) await stopAuthstack(stack);
});

test('sign in on the hosted page, a second application without a password, sign-out ends both', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(err.message));
  const visited = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(frame.url());
  });
  let step = 'start';
  const shot = (name) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
  try {
    step = 'first application: hosted sign-in';
    await page.goto(apps.first.origin);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${issuer}/login**`);
    await shot('1-hosted-sign-in');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.locator('button[type=submit]').first().click();
    await page.waitForURL(`${apps.first.origin}/`);
    assert.equal(await page.getByTestId('email').innerText(), user.email);
    await shot('2-first-signed-in');

    step = 'second application: no password';
    visited.length = 0;
    await page.goto(apps.second.origin);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${apps.second.origin}/`);
    assert.equal(await page.getByTestId('email').innerText(), user.email);
    assert.ok(!visited.some((u) => u.startsWith(`${issuer}/login`)), `no sign-in page: ${visited.join(' → ')}`);
    await shot('3-second-signed-in');

    step = 'sign out of the first';
    await page.goto(apps.first.origin);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${apps.first.origin}/`);
    await page.getByText('You are not signed in.').waitFor();
    await shot('4-first-signed-out');

    step = 'the second learns it (back-channel logout)';
    await until('the second application to show the user signed out', 10_000, async () => {
      await page.goto(apps.second.origin);
      return (await page.getByText('You are not signed in.').count()) === 1;
    });
    await shot('5-second-signed-out');
    // And signing in again asks for the password: the instance's sign-in ended too.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${issuer}/login**`);
  } catch (error) {
    await shot('failure').catch(() => {});
    throw new Error(`${step} (${page.url()}): ${error.message}`, { cause: error });
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, []);
});
