// The example app's whole journey in real headless Chromium against a real `authstack dev`:
// A signs up and verifies the email (the mailed link as it is: the instance's own page on the
// gateway, whose form A submits), signs in on the app, creates two organizations, invites B as
// viewer; B accepts the invitation on the app's page by creating the account; A
// switches organization, sees the page behind <PermissionGate permission="audit:read">,
// creates a custom role; B does not see the gated page. A screenshot of every step goes to
// e2e/artifacts/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { allowOrigins } from '../examples/saas-demo/scripts/dev-config.mjs';
import { buildExample, launchChromium, linkToken, serveExample, startAuthstack, stopAuthstack, waitForMail } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts');
const PASSWORD = 'a long enough passphrase 42';

let stack;
let app;
let browser;
let liveInstanceId;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  stack = await startAuthstack();
  buildExample(stack.devJson);
  app = await serveExample(stack.devJson);
  ({ instanceId: liveInstanceId } = await allowOrigins(stack.info, [app.origin]));
  // Playwright gives the browser a fresh temporary profile of its own.
  browser = await launchChromium();
});

after(async () => {
  // Every process this suite started is stopped by PID, also when a step failed.
  await browser?.close().catch(() => {});
  await app?.child.stop();
  if (stack) await stopAuthstack(stack);
});

/** A fresh browser context (its own storage): one person at one computer. */
async function person(name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // A failed load names its resource in the message's location.
    const at = msg.location()?.url;
    // Chromium asks the gateway for /favicon.ico by itself on the instance's pages (which name
    // no icon), and the gateway answers 401 there: not something the page did.
    if (at && stack && at === `${new URL(stack.info.gateway_url).origin}/favicon.ico`) return;
    problems.push(`${name}: console: ${msg.text()}${at ? ` (${at})` : ''}`);
  });
  let step = 0;
  return {
    page,
    problems,
    async shot(label) {
      step += 1;
      await page.screenshot({ path: path.join(artifacts, `${name}-${String(step).padStart(2, '0')}-${label}.png`), fullPage: true });
    },
    close: () => context.close(),
  };
}

/**
 * The app's own page `appPath` for the token of a mailed link. Links point at the instance's
 * pages on the gateway (`{gateway}/i/{instance}/accept-invitation?token=…`) unless
 * `mail.link_base_url` names the app: the token, not the link's path, says what to open here.
 */
function onApp(appPath, link) {
  return `${app.origin}${appPath}?token=${encodeURIComponent(linkToken(link))}`;
}

/** The live instance's page on the gateway for a mailed link: `{gateway}/i/{instance}/{page}`. */
function instancePage(page) {
  return `${stack.info.gateway_url.replace(/\/$/, '')}/i/${liveInstanceId}/${page}`;
}

test('two users: sign up, organizations, invitation, switch, permission gate, custom role', { timeout: 240_000 }, async () => {
  const stamp = Date.now();
  const alice = `alice+${stamp}@example.com`;
  const bob = `bob+${stamp}@example.com`;
  const A = await person('a');
  const B = await person('b');
  try {
    // A signs up; the instance requires email verification.
    const since = Date.now();
    await A.page.goto(`${app.origin}/sign-up`);
    await A.page.getByLabel('Name').fill('Alice Admin');
    await A.page.getByLabel('Email address').fill(alice);
    await A.page.getByLabel('Password').fill(PASSWORD);
    await A.shot('sign-up-form');
    await A.page.getByRole('button', { name: 'Create account' }).click();
    await A.page.getByRole('status').filter({ hasText: 'Check your inbox' }).waitFor();
    await A.shot('check-inbox');

    // A opens the verification link from the outbox as it is: the instance's own page, whose
    // form (not the link) spends the token; then A signs in on the app.
    const verification = await waitForMail(stack.dataDir, liveInstanceId, { to: alice, kind: 'verify_email', after: since - 1000 });
    const link = new URL(verification.link);
    assert.equal(`${link.origin}${link.pathname}`, instancePage('verify-email'), `the mailed link: ${verification.link}`);
    await A.page.goto(verification.link);
    await A.page.getByRole('heading', { name: 'Verify your email address' }).waitFor();
    await A.shot('verify-email-page');
    await A.page.getByRole('button', { name: 'Verify email address' }).click();
    await A.page.getByRole('status').filter({ hasText: `${alice} is verified` }).waitFor();
    await A.page.getByRole('heading', { name: 'Email address verified' }).waitFor();
    await A.shot('verified');
    await A.page.goto(`${app.origin}/sign-in`);
    await A.page.getByLabel('Email address').fill(alice);
    await A.page.getByLabel('Password').fill(PASSWORD);
    await A.page.getByRole('button', { name: 'Sign in' }).click();
    await A.page.getByRole('button', { name: 'Sign out' }).waitFor();
    await A.page.goto(`${app.origin}/organizations/new`);
    await A.page.getByRole('heading', { name: 'Create an organization' }).waitFor();
    await A.shot('signed-in');

    // A creates two organizations (each becomes current).
    await A.page.getByLabel('Organization name').fill('Initech');
    await A.page.getByRole('button', { name: 'Create organization' }).click();
    await A.page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await A.page.goto(`${app.origin}/organizations/new`);
    await A.page.getByLabel('Organization name').fill('Globex');
    await A.page.getByRole('button', { name: 'Create organization' }).click();
    await A.page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await A.page.getByRole('button', { name: 'Current organization: Globex' }).waitFor();
    await A.page.getByRole('rowheader', { name: /Alice Admin/ }).waitFor();
    await A.shot('organizations-created');

    // A invites B as viewer (keyboard: the dialog opens with focus in the email field).
    await A.page.getByRole('button', { name: 'Invite member' }).click();
    const dialog = A.page.getByRole('dialog', { name: 'Invite a member' });
    await dialog.waitFor();
    assert.equal(await A.page.evaluate(() => document.activeElement?.getAttribute('name')), 'invite-email');
    await A.page.keyboard.type(bob);
    await dialog.getByLabel('Role').selectOption('viewer');
    await A.shot('invite-dialog');
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.getByRole('status').filter({ hasText: `Invitation sent to ${bob}.` }).waitFor();
    await A.page.keyboard.press('Escape');
    await A.page.getByRole('region', { name: 'Pending invitations' }).getByText(bob).waitFor();
    await A.shot('invitation-pending');

    // B finds the invitation in the demo's dev mailbox (the outbox, as the README describes) and
    // accepts it on the app's own page (the SDK's <AcceptInvitation>, by the mailed token),
    // creating the account while accepting.
    const invitation = await waitForMail(stack.dataDir, liveInstanceId, { to: bob, kind: 'invitation' });
    await B.page.goto(`${app.origin}/dev/mailbox`);
    const mail = B.page.getByRole('listitem').filter({ hasText: bob }).filter({ hasText: 'invitation' });
    await mail.getByRole('link', { name: 'Open link' }).waitFor();
    await B.page.goto(onApp('/accept-invitation', invitation.link));
    await B.page.waitForURL(/\/accept-invitation\?token=/);
    await B.page.getByLabel('Name').fill('Bob Viewer');
    await B.page.getByLabel('Password').fill(PASSWORD);
    await B.shot('accept-invitation');
    await B.page.getByRole('button', { name: 'Accept invitation' }).click();
    await B.page.getByRole('status').filter({ hasText: 'You joined Globex as viewer.' }).waitFor();
    await B.shot('joined');

    // A sees B among the members; A switches to Initech with the keyboard, then back to Globex.
    await A.page.goto(`${app.origin}/members`);
    await A.page.getByRole('rowheader', { name: /Bob Viewer/ }).waitFor();
    const switcher = A.page.getByRole('button', { name: 'Current organization: Globex' });
    await switcher.focus();
    await A.page.keyboard.press('ArrowDown');
    const options = A.page.getByRole('listbox', { name: 'Current organization' });
    await options.waitFor();
    await A.shot('switcher-open');
    await A.page.keyboard.press('i'); // type-ahead to "Initech"
    await A.page.keyboard.press('Enter');
    await A.page.getByRole('button', { name: 'Current organization: Initech' }).waitFor();
    await A.page.getByRole('rowheader', { name: /Alice Admin/ }).waitFor();
    assert.equal(await A.page.getByRole('rowheader', { name: /Bob Viewer/ }).count(), 0);
    await A.shot('switched-to-initech');
    await A.page.getByRole('button', { name: 'Current organization: Initech' }).click();
    await A.page.getByRole('option', { name: /Globex/ }).click();
    await A.page.getByRole('button', { name: 'Current organization: Globex' }).waitFor();

    // A, the owner, sees the page behind <PermissionGate permission="audit:read">.
    await A.page.getByRole('link', { name: 'Audit log' }).click();
    await A.page.getByText('Everything that happened in Globex.').waitFor();
    await A.page.getByRole('cell', { name: 'organization.invitation_accepted' }).waitFor();
    await A.shot('gated-page-visible');

    // A creates a custom role.
    await A.page.getByRole('link', { name: 'Roles' }).click();
    const roles = A.page.getByRole('region', { name: 'Roles' });
    await roles.getByText('Viewer', { exact: true }).waitFor();
    await A.page.getByLabel('Role name').fill('Auditor');
    await A.page.getByLabel('Key', { exact: true }).fill('auditor');
    const editor = A.page.getByRole('group', { name: 'Permissions', exact: true });
    await editor.getByRole('checkbox', { name: 'audit:read' }).check();
    await editor.getByRole('checkbox', { name: 'members:read' }).check();
    await A.page.getByRole('button', { name: 'Create role' }).click();
    await A.page.getByRole('status').filter({ hasText: 'Role Auditor created.' }).waitFor();
    await A.page.getByRole('group', { name: 'Permissions of Auditor' }).waitFor();
    await A.shot('custom-role-created');

    // B, a viewer in Globex, sees neither the link nor the page.
    await B.page.goto(`${app.origin}/`);
    await B.page.getByRole('button', { name: 'Current organization: Globex' }).waitFor();
    await B.page.getByText('Your role: viewer').waitFor();
    assert.equal(await B.page.getByRole('link', { name: 'Audit log' }).count(), 0);
    await B.page.goto(`${app.origin}/audit`);
    await B.page.getByTestId('gated').waitFor();
    assert.equal(await B.page.getByText('Everything that happened in').count(), 0);
    await B.shot('gated-page-hidden');

    // The custom role is live: A gives it to B, and B's next session sees the page.
    await A.page.getByRole('link', { name: 'Members' }).click();
    await A.page.getByRole('combobox', { name: 'Role of Bob Viewer' }).selectOption('auditor');
    await A.page.getByRole('combobox', { name: 'Role of Bob Viewer' }).and(A.page.locator(':not([disabled])')).waitFor();
    await A.shot('bob-made-auditor');
    await B.page.getByRole('button', { name: 'Sign out' }).click();
    await B.page.getByLabel('Email address').fill(bob);
    await B.page.getByLabel('Password').fill(PASSWORD);
    await B.page.getByRole('button', { name: 'Sign in' }).click();
    await B.page.getByRole('button', { name: /Current organization/ }).waitFor();
    await B.page.getByRole('button', { name: 'Current organization: No organization' }).click();
    await B.page.getByRole('option', { name: /Globex/ }).click();
    await B.page.getByRole('link', { name: 'Audit log' }).click();
    await B.page.getByText('Everything that happened in Globex.').waitFor();
    await B.shot('auditor-sees-gated-page');

    assert.deepEqual([...A.problems, ...B.problems], []);
  } catch (err) {
    await A.shot('failure').catch(() => {});
    await B.shot('failure').catch(() => {});
    err.message += `\nbrowser problems: ${JSON.stringify([...A.problems, ...B.problems])}`;
    throw err;
  } finally {
    await A.close();
    await B.close();
  }
});
