// The dashboard's whole journey in real headless Chromium against a fresh `authstack dev`
// (the control plane serves the built dashboard at `/`):
//
//  1. a new customer signs up, verifies the email through the platform outbox's link, creates an
//     account, subscribes to a plan and watches provisioning until live and test are ready;
//  2. creates a publishable test key and reads it from the reveal-once panel;
//  3. an end user signs up through the gateway with that key (Node-side, as the SDK calls it),
//     verifies through the test instance's outbox and logs in;
//  4. customizes the test instance ("set the minimum password length to 12"), approves, sees the
//     verification; on Revisions compares the two revisions and rolls back; the gateway enforces
//     the new rule and then the old one again;
//  5. invites a teammate as viewer; the teammate accepts in a second browser, lands in the account,
//     cannot rotate keys in the UI, and the control plane answers 403 `forbidden` to a direct call;
//  6. every page of the navigation (whatever it holds) is visited and photographed, light and dark
//     for the instances page, into e2e/artifacts/dashboard/;
//  7. axe-core runs on every page visited: serious and critical violations fail the suite.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { describeViolations, FAILING_IMPACTS, runAxe } from './axe.mjs';
import {
  callJson,
  decodeJwt,
  platformSession,
  ensureDashboardBuilt,
  linkToken,
  startAuthstack,
  stopAuthstack,
  until,
  waitForMail,
  launchChromium,
} from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts', 'dashboard');
const PASSWORD = 'a long enough passphrase 42';
/** 10 characters, not a common password: fine for the default policy (8), too short for 12. */
const SHORT_PASSWORD = 'Qz7!vmK2#p';

let stack;
let browser;
let dashboard; // the control plane's URL, where the dashboard is served
let platformInstanceId;
let shotNumber = 0;
/** Every axe violation found, with the page it was on. */
const a11y = [];
/** Pages photographed so far, by path (the navigation tour skips them). */
const visited = new Set();

before(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  ensureDashboardBuilt();
  stack = await startAuthstack();
  dashboard = stack.info.control_plane_url.replace(/\/$/, '');
  const platform = await callJson(`${dashboard}/v1/platform`);
  assert.equal(platform.status, 200, `GET /v1/platform: ${JSON.stringify(platform.body)}`);
  platformInstanceId = platform.body.instance_id;
  const index = await fetch(`${dashboard}/`);
  assert.match(await index.text(), /<div id="root">/, 'the control plane does not serve the dashboard: is apps/dashboard/dist built?');
  browser = await launchChromium();
});

after(async () => {
  // Every process this suite started is stopped by PID, also when a step failed.
  await browser?.close().catch(() => {});
  if (stack) await stopAuthstack(stack);
  if (a11y.length > 0) writeFileSync(path.join(artifacts, 'axe-violations.json'), `${JSON.stringify(a11y, null, 2)}\n`);
});

/** A fresh browser context (its own storage): one person at one computer. */
async function person(name, { colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // A refused request is logged by Chromium itself; the page shows it (asserted where expected).
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return;
    problems.push(`${name}: console: ${msg.text()}`);
  });
  return {
    name,
    page,
    problems,
    /** A full-page screenshot, then (unless `axe: false`) axe on the page as it is. */
    async look(label, { axe = true } = {}) {
      shotNumber += 1;
      const file = `${String(shotNumber).padStart(2, '0')}-${name}-${label}.png`;
      await page.screenshot({ path: path.join(artifacts, file), fullPage: true });
      if (!axe) return;
      const theme = await page.evaluate(() => document.documentElement.dataset.theme ?? 'light');
      const at = new URL(page.url()).pathname;
      for (const violation of await runAxe(page)) {
        a11y.push({ state: label, path: at, who: name, theme, screenshot: file, violation });
      }
    },
    close: () => context.close(),
  };
}

/** Waits until the page shows content, not a loading state. */
async function settled(page) {
  await page.locator('main').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: 20_000 });
}

/** The dashboard's navigation links as `{ name, href }`. */
async function navLinks(page) {
  return page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link')
    .evaluateAll((links) => links.map((a) => ({ name: a.textContent.trim(), href: a.getAttribute('href') })));
}

async function go(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await settled(page);
}

const slug = (text) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** A platform token for `email` working in the organization of its account: what the dashboard holds. */
async function platformToken(email, password) {
  return (await platformSession(stack.info, email, password)).token;
}

/** A control-plane call with a platform token. */
const controlPlane = (token, p, init = {}) =>
  callJson(`${dashboard}${p}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

/** A call to a customer instance through the gateway, with a publishable key (as @authstack/client sends it). */
const viaGateway = (key, p, body) =>
  callJson(`${stack.info.gateway_url}${p}`, { method: 'POST', headers: { 'x-authstack-key': key }, body });

test('the dashboard: sign-up to ready instances, keys, an end user, customize and roll back, a viewer teammate, every page', { timeout: 300_000 }, async (t) => {
  const stamp = Date.now();
  const owner = `owner+${stamp}@example.com`;
  const viewer = `viewer+${stamp}@example.com`;
  const endUser = `end-user+${stamp}@example.com`;
  const accountName = `Acme ${stamp}`;
  const A = await person('owner');
  let B;
  let failed = false;
  // Shared between the steps.
  let accountId;
  let ownerToken;
  let testInstanceId;
  let publishableKey;
  let keyId;

  /**
   * A sub-step; after a failure the remaining ones are skipped (they build on each other), except
   * those that run `always` (the accessibility verdict on the pages seen so far).
   */
  const step = (name, fn, { always = false } = {}) =>
    t.test(name, { skip: failed && !always ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        if (always) throw err; // a verdict on what was seen: no screenshot to add
        for (const who of [A, B].filter(Boolean)) {
          await who.look(`failure-step-${name.split('.')[0]}`, { axe: false }).catch(() => {});
        }
        err.message += `\nbrowser problems: ${JSON.stringify([...A.problems, ...(B?.problems ?? [])])}`;
        throw err;
      }
    });

  try {
    await step('1. a new customer signs up, verifies the email, creates an account, subscribes and watches provisioning', async () => {
      const { page } = A;
      await page.goto(`${dashboard}/sign-in`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await A.look('sign-in');

      const since = Date.now();
      await page.getByRole('link', { name: /Sign up/ }).click();
      await page.getByRole('heading', { name: 'Create your account' }).waitFor();
      await page.getByLabel('Name').fill('Olivia Owner');
      await page.getByLabel('Email address').fill(owner);
      await page.getByLabel('Password').fill(PASSWORD);
      await A.look('sign-up');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('status').filter({ hasText: 'Check your inbox' }).waitFor();
      await A.look('sign-up-check-inbox');

      // The platform instance mailed the link (to the dashboard, or the gateway before that change):
      // its token opens the dashboard's /verify-email either way.
      const mail = await waitForMail(stack.dataDir, platformInstanceId, { to: owner, kind: 'verify_email', after: since - 1000 });
      await page.goto(`${dashboard}/verify-email?token=${encodeURIComponent(linkToken(mail.link))}`);
      await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
      await settled(page);
      await A.look('accounts-first-visit');

      // No script of the page can read a refresh token: the control plane keeps it in an
      // HttpOnly cookie and the SDK stores a handle. A reload restores the session with it.
      const readable = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie);
      assert.ok(!/rt_[A-Za-z0-9_-]{40}/.test(readable), `a refresh token is readable by the page: ${readable}`);
      assert.ok(readable.includes('bff_'), `the SDK holds the handle: ${readable}`);
      await page.reload();
      await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();

      const create = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Create an account' }) });
      await create.getByLabel('Account name').fill(accountName);
      await create.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/plans$/);
      await page.getByRole('heading', { name: 'Plans', level: 1 }).waitFor();
      await settled(page);
      await page.getByRole('button', { name: 'Choose Starter' }).waitFor();
      await A.look('plans');
      visited.add('/plans');

      await page.getByRole('button', { name: 'Choose Starter' }).click();
      await page.waitForURL(/\/instances$/);
      await page.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
      // Provisioning is quick on this machine: photograph whatever shows first.
      const provisioning = page.getByRole('status').filter({ hasText: 'Setting up your AuthStack' });
      const ready = page.getByRole('region', { name: 'Your AuthStack is ready' });
      await provisioning.or(ready).first().waitFor({ timeout: 30_000 });
      const caught = await provisioning.isVisible();
      await A.look(caught ? 'instances-provisioning' : 'instances-provisioning-already-ready');
      if (!caught) t.diagnostic('provisioning finished before the first screenshot');

      await ready.waitFor({ timeout: 120_000 });
      for (const card of ['Live instance in local', 'Test instance in local']) {
        await page.getByRole('article', { name: card }).locator('.badge', { hasText: 'Ready' }).waitFor();
      }
      await ready.locator('pre code', { hasText: '<AuthStackProvider apiKey=' }).waitFor();
      const snippet = await ready.locator('pre code').innerText();
      assert.ok(snippet.includes(`baseUrl="${stack.info.gateway_url.replace(/\/$/, '')}`), `the snippet points at the gateway:\n${snippet}`);
      await A.look('instances-ready-light');
      visited.add('/instances');

      // Dark mode (remembered by the browser), then back to light. The button says what pressing
      // it does: its name changes with the theme.
      await page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
      const toLight = page.getByRole('button', { name: 'Switch to light theme' });
      await toLight.waitFor();
      assert.equal(await page.getByRole('button', { name: 'Switch to dark theme' }).count(), 0);
      await A.look('instances-ready-dark');
      await toLight.click();
      await page.locator('html[data-theme="light"]').waitFor({ state: 'attached' });
      await page.getByRole('button', { name: 'Switch to dark theme' }).waitFor();

      ownerToken = await platformToken(owner, PASSWORD);
      const accounts = await controlPlane(ownerToken, '/v1/accounts');
      assert.equal(accounts.status, 200);
      assert.equal(accounts.body.data.length, 1);
      assert.equal(accounts.body.data[0].name, accountName);
      accountId = accounts.body.data[0].id;
      const instances = await controlPlane(ownerToken, `/v1/accounts/${accountId}/instances`);
      assert.deepEqual(instances.body.data.map((i) => `${i.environment}:${i.state}`).sort(), ['live:ready', 'test:ready']);
      testInstanceId = instances.body.data.find((i) => i.environment === 'test').id;
    });

    await step('2. the customer creates a publishable test key and reads it from the reveal-once panel', async () => {
      const { page } = A;
      await go(page, 'API keys');
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await A.look('keys-empty');
      const form = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Create a key' }) });
      await form.getByLabel('Name').fill('E2E web app');
      await form.getByRole('radio', { name: 'Test' }).check();
      await form.getByRole('radio', { name: /Publishable/ }).check();
      await form.getByRole('button', { name: 'Create key' }).click();
      const reveal = page.getByRole('region', { name: 'Copy your new key now' });
      await reveal.waitFor();
      publishableKey = (await reveal.getByLabel('New key').innerText()).trim();
      assert.ok(/^ask_test_[A-Za-z0-9_-]{20,}$/.test(publishableKey), `not a test publishable key: ${publishableKey.slice(0, 12)}…`);
      await page.getByRole('row', { name: /E2E web app/ }).waitFor();
      await A.look('keys-reveal');
      visited.add('/keys');
      await reveal.getByRole('button', { name: 'I have stored it' }).click();
      await reveal.waitFor({ state: 'detached' });

      const keys = await controlPlane(ownerToken, `/v1/accounts/${accountId}/keys`);
      const key = keys.body.data.find((k) => k.name === 'E2E web app');
      assert.ok(key, 'the new key is listed');
      assert.ok(publishableKey.startsWith(key.display_prefix), 'the revealed key matches the listed prefix');
      keyId = key.id;
    });

    await step('3. an end user signs up through the gateway with that key, verifies and logs in', async () => {
      const since = Date.now();
      const signup = await viaGateway(publishableKey, '/v1/auth/signup', { email: endUser, password: PASSWORD, name: 'Eve End-User' });
      // The default policy: email verification, answered the same for every address.
      assert.equal(signup.status, 202, JSON.stringify(signup.body));
      const refused = await viaGateway(publishableKey, '/v1/auth/login', { email: endUser, password: PASSWORD });
      assert.equal(refused.status, 403, `login before verification: ${JSON.stringify(refused.body)}`);
      assert.equal(refused.body.error, 'email_not_verified');

      const mail = await waitForMail(stack.dataDir, testInstanceId, { to: endUser, kind: 'verify_email', after: since - 1000 });
      const verified = await viaGateway(publishableKey, '/v1/auth/email/verify', { token: linkToken(mail.link) });
      assert.equal(verified.status, 200, JSON.stringify(verified.body));
      assert.ok(verified.body.access_token);

      const login = await viaGateway(publishableKey, '/v1/auth/login', { email: endUser, password: PASSWORD });
      assert.equal(login.status, 200, JSON.stringify(login.body));
      const claims = decodeJwt(login.body.access_token);
      assert.equal(claims.email, endUser);
      // The issuer is the instance's public address on the gateway, `{gateway}/i/{instance}`.
      assert.equal(claims.iss.replace(/\/$/, ''), `${stack.info.gateway_url.replace(/\/$/, '')}/i/${testInstanceId}`);
      assert.ok([claims.aud].flat().includes(testInstanceId), `the token is for the test instance (aud ${JSON.stringify(claims.aud)})`);
    });

    /** Signs a new end user up with a 10-character password: 202 under the default policy, 400 `weak_password` under min 12. */
    const shortPasswordSignup = async () => {
      const answer = await viaGateway(publishableKey, '/v1/auth/signup', {
        email: `short+${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`,
        password: SHORT_PASSWORD,
      });
      return answer;
    };

    await step('4. Customize: minimum password length 12, proposal with diff, approve, verified; Revisions: compare and roll back', async () => {
      const { page } = A;
      assert.equal((await shortPasswordSignup()).status, 202, 'a 10-character password is fine before the change');

      await go(page, 'Customize');
      await page.getByRole('heading', { name: 'Customize', level: 1 }).waitFor();
      assert.equal(await page.getByRole('group', { name: 'Instance' }).getByRole('button', { name: 'Test instance' }).getAttribute('aria-pressed'), 'true');
      await page.getByText(/0 of \d+ prompts used this month/).waitFor();
      await A.look('customize');
      visited.add('/customize');
      await page.getByLabel('What should change?').fill('Set the minimum password length to 12');
      await page.getByRole('button', { name: 'Propose' }).click();
      const conversation = page.getByRole('log', { name: 'Conversation' });
      await conversation.getByText('Proposal:').waitFor({ timeout: 30_000 });
      const proposed = conversation.getByRole('table', { name: /The proposed change against revision 1/ });
      const row = proposed.getByRole('row', { name: /passwords\.min_length/ });
      await row.waitFor();
      assert.deepEqual(await row.getByRole('cell').allInnerTexts(), ['8', '12']);
      await A.look('customize-proposal');

      await conversation.getByRole('button', { name: 'Approve and deploy' }).click();
      const done = conversation.locator('.notice-success[role="status"]');
      await done.waitFor({ timeout: 120_000 });
      assert.match(await done.innerText(), /revision 2 is live on the test instance and the change is in effect/);
      assert.equal(await conversation.getByRole('alert').count(), 0);
      await A.look('customize-result');

      // The gateway enforces the new rule (the new process takes over within a moment).
      await until('the test instance to refuse 10-character passwords', 20_000, async () => {
        const answer = await shortPasswordSignup();
        return answer.status === 400 && answer.body?.error === 'weak_password';
      });

      await go(page, 'Revisions');
      await page.getByRole('heading', { name: 'Revisions', level: 1 }).waitFor();
      await page.getByRole('group', { name: 'Instance' }).getByRole('button', { name: 'Test instance' }).click();
      await page.getByText('Wanted revision 2; running 2; last healthy 2.').waitFor();
      const history = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Summary' }) });
      await history.getByRole('row', { name: /^2 running/ }).getByText(/minimum|password/i).first().waitFor();
      await history.getByRole('row', { name: /^2 running/ }).getByRole('cell', { name: 'Customize', exact: true }).waitFor();
      await A.look('revisions');
      visited.add('/revisions');

      const compare = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Compare two revisions' }) });
      assert.equal(await compare.getByLabel('From', { exact: true }).inputValue(), '1');
      assert.equal(await compare.getByLabel('To', { exact: true }).inputValue(), '2');
      await compare.getByRole('button', { name: 'Compare' }).click();
      const sideBySide = compare.getByRole('table', { name: 'Revision 1 and revision 2, side by side' });
      await sideBySide.waitFor();
      assert.deepEqual(await sideBySide.getByRole('columnheader').allInnerTexts(), ['Setting', 'Revision 1', 'Revision 2']);
      assert.deepEqual(await sideBySide.getByRole('row', { name: /passwords\.min_length/ }).getByRole('cell').allInnerTexts(), ['8', '12']);
      await A.look('revisions-diff');

      await page.getByRole('button', { name: 'Roll back to the last healthy revision' }).click();
      const confirm = page.getByRole('dialog', { name: 'Roll back?' });
      await confirm.waitFor();
      await A.look('revisions-rollback-confirm');
      await confirm.getByRole('button', { name: 'Roll back' }).click();
      await page.getByRole('status').filter({ hasText: 'Revision 1 is deployed.' }).waitFor({ timeout: 120_000 });
      await page.getByText('Wanted revision 1; running 1; last healthy 1.').waitFor();
      await history.getByRole('row', { name: /^1 running/ }).waitFor();
      await A.look('revisions-rolled-back');

      const revisions = await controlPlane(ownerToken, `/v1/accounts/${accountId}/instances/test/revisions`);
      assert.equal(revisions.status, 200);
      assert.equal(revisions.body.revision, 1);
      assert.equal(revisions.body.current_revision, 1);
      await until('the test instance to take 10-character passwords again', 20_000, async () => (await shortPasswordSignup()).status === 202);
    });

    await step('5. a teammate invited as viewer joins in another browser, cannot rotate keys, and the API refuses with 403', async () => {
      const { page } = A;
      await go(page, 'Team');
      await page.getByRole('heading', { name: 'Team', level: 1 }).waitFor();
      await page.getByRole('rowheader', { name: /Olivia Owner/ }).waitFor();
      await A.look('team');
      visited.add('/team');
      const since = Date.now();
      await page.getByRole('button', { name: 'Invite member' }).click();
      const dialog = page.getByRole('dialog', { name: 'Invite a member' });
      await dialog.waitFor();
      await dialog.getByLabel('Email address to invite').fill(viewer);
      await dialog.getByLabel('Role').selectOption('viewer');
      await A.look('team-invite-dialog');
      await dialog.getByRole('button', { name: 'Send invitation' }).click();
      await dialog.getByRole('status').filter({ hasText: `Invitation sent to ${viewer}.` }).waitFor();
      await page.keyboard.press('Escape');
      await page.getByText(viewer).first().waitFor();
      await A.look('team-invitation-pending');

      // The teammate opens the mailed link in their own browser (the token on the dashboard's
      // /accept-invitation, wherever the link points).
      B = await person('viewer');
      const mail = await waitForMail(stack.dataDir, platformInstanceId, { to: viewer, kind: 'invitation', after: since - 1000 });
      await B.page.goto(`${dashboard}/accept-invitation?token=${encodeURIComponent(linkToken(mail.link))}`);
      await B.page.getByLabel('Name').fill('Victor Viewer');
      await B.page.getByLabel('Password').fill(PASSWORD);
      await B.look('accept-invitation');
      await B.page.getByRole('button', { name: 'Accept invitation' }).click();
      // Joined and signed in: the dashboard opens on the account.
      await B.page.getByRole('button', { name: `Current account: ${accountName}` }).waitFor({ timeout: 30_000 });
      await B.page.getByRole('heading', { name: 'Instances', level: 1 }).waitFor();
      await settled(B.page);
      await B.look('instances');

      await go(B.page, 'API keys');
      await B.page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await B.page.getByRole('note').filter({ hasText: 'does not allow seeing API keys' }).waitFor();
      assert.equal(await B.page.getByRole('button', { name: /^Rotate/ }).count(), 0, 'a viewer sees no Rotate button');
      await B.look('keys-forbidden');

      const viewerToken = await platformToken(viewer, PASSWORD);
      const rotate = await controlPlane(viewerToken, `/v1/accounts/${accountId}/keys/${keyId}/rotate`, {
        method: 'POST',
        body: { grace_period_secs: 0 },
      });
      assert.equal(rotate.status, 403, JSON.stringify(rotate.body));
      assert.equal(rotate.body.error, 'forbidden');
      const keys = await controlPlane(ownerToken, `/v1/accounts/${accountId}/keys`);
      const key = keys.body.data.find((k) => k.id === keyId);
      assert.ok(key && !key.revoked_at && !key.expires_at && !key.replaced_by, 'the key was not rotated');

      // The owner sees the teammate among the members.
      await A.page.reload();
      await A.page.getByRole('rowheader', { name: /Victor Viewer/ }).waitFor();
    });

    await step('6. every page of the navigation, photographed and checked', async () => {
      const tour = async (who) => {
        const links = await navLinks(who.page);
        t.diagnostic(`${who.name}'s navigation: ${links.map((l) => l.name).join(', ')}`);
        assert.ok(links.length >= 7, `the navigation has its pages: ${JSON.stringify(links)}`);
        for (const link of links) {
          if (visited.has(link.href)) continue;
          visited.add(link.href);
          await go(who.page, link.name);
          await who.page.getByRole('heading', { level: 1 }).or(who.page.locator('main .empty h3')).first().waitFor();
          await settled(who.page);
          await who.look(`page-${slug(link.name)}`);
        }
      };
      await tour(A);
      // The owner's pages again in dark mode (contrast differs), then back to light.
      await A.page.getByRole('button', { name: 'Switch to dark theme' }).click();
      await A.page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
      for (const link of await navLinks(A.page)) {
        if (link.href === '/instances') continue; // photographed dark in step 1
        await go(A.page, link.name);
        await A.page.getByRole('heading', { level: 1 }).or(A.page.locator('main .empty h3')).first().waitFor();
        await settled(A.page);
        await A.look(`page-${slug(link.name)}-dark`);
      }
      await A.page.getByRole('button', { name: 'Switch to light theme' }).click();
      await A.page.locator('html[data-theme="light"]').waitFor({ state: 'attached' });
      // Signed out, with a dark system theme: the sign-in and sign-up pages follow it.
      const visitor = await person('visitor', { colorScheme: 'dark' });
      try {
        await visitor.page.goto(`${dashboard}/sign-in`);
        await visitor.page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await visitor.page.locator('html[data-theme="dark"]').waitFor({ state: 'attached' });
        await visitor.look('sign-in-dark');
        await visitor.page.goto(`${dashboard}/sign-up`);
        await visitor.page.getByRole('heading', { name: 'Create your account' }).waitFor();
        await visitor.look('sign-up-dark');
        assert.deepEqual(visitor.problems, []);
      } finally {
        await visitor.close();
      }
      // The demo owner runs this platform: pages only operators see (Ops) show in their navigation.
      const operator = await person('operator');
      try {
        await operator.page.goto(`${dashboard}/sign-in`);
        await operator.page.getByLabel('Email address').fill(stack.info.demo.owner_email);
        await operator.page.getByLabel('Password').fill(stack.info.demo.owner_password);
        await operator.page.getByRole('button', { name: 'Sign in' }).click();
        await operator.page.getByRole('navigation', { name: 'Main' }).waitFor();
        await settled(operator.page);
        await tour(operator);
        assert.deepEqual(operator.problems, []);
      } finally {
        await operator.close();
      }
      assert.deepEqual([...A.problems, ...(B?.problems ?? [])], []);
    });

    await step('7. accessibility: no serious or critical axe violation on any page visited', async () => {
      t.diagnostic(`axe checked ${shotNumber} page states; all its findings are in e2e/artifacts/dashboard/axe-violations.json`);
      const minor = a11y.filter((f) => !FAILING_IMPACTS.has(f.violation.impact));
      if (minor.length > 0) {
        t.diagnostic('not failing (moderate or minor):');
        for (const line of describeViolations(minor, { details: false }).split('\n')) t.diagnostic(line);
      }
      const failing = a11y.filter((f) => FAILING_IMPACTS.has(f.violation.impact));
      assert.equal(failing.length, 0, `serious or critical accessibility violations:\n${describeViolations(failing)}`);
    }, { always: true });
  } finally {
    await A.close();
    await B?.close();
  }
});
