// Every hosted page of an instance in real headless Chromium, in both themes and two
// languages, checked with axe-core: sign in (and its refusal), sign up, verify email (from the
// mailed link), forgot and reset password (from the mailed link), accept invitation (from the
// mailed link), consent, choose organization, sign out (asked, then done) and the error page.
// Each instance is a bare `authstack-instance` with a branding and languages configuration; the
// browser's language (its Accept-Language) picks English or German. A screenshot of every page
// goes to e2e/artifacts/hosted/<theme>-<language>-<page>.png; a serious or critical axe finding
// on any page fails the suite, naming page, theme, rule and element.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FAILING_IMPACTS, describeViolations, runAxe } from './axe.mjs';
import { PASSWORD, startInstance } from './instance.mjs';
import { launchChromium } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts', 'hosted');
// Never reached: the browser's request to it is answered by the test (page.route).
const REDIRECT = 'http://127.0.0.1:9/callback';

const THEMES = {
  light: { primary_color: '#0f766e', appearance: 'light' },
  dark: { primary_color: '#facc15', appearance: 'dark' },
};
const LANGUAGES = {
  en: { locale: 'en-US', title: 'Sign in' },
  de: { locale: 'de-DE', title: 'Anmelden' },
};

let browser;
const instances = {};
const findings = [];

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await launchChromium();
  for (const [theme, branding] of Object.entries(THEMES)) {
    instances[theme] = await startInstance({ branding, i18n: { default_language: 'en', languages: ['en', 'de'] } });
  }
});

after(async () => {
  await browser?.close().catch(() => {});
  for (const instance of Object.values(instances)) await instance.stop();
});

async function json(instance, pathname, { token, body, method = body ? 'POST' : 'GET' } = {}) {
  const response = await fetch(instance.issuer + pathname, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const parsed = await response.json();
  assert.ok(response.ok, `${method} ${pathname}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

function authorizeUrl(instance, clientId, extra = {}) {
  const url = new URL('/oauth2/authorize', instance.issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    scope: 'openid email',
    state: 'state-1',
    // S256 of the RFC 7636 example verifier.
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGwSE-jXcM',
    code_challenge_method: 'S256',
    ...extra,
  }).toString();
  return url.toString();
}

/** One language of one theme: every page, in the order a user meets them. */
async function walk(theme, language) {
  const instance = instances[theme];
  const tag = `${theme}-${language}`;
  const web = await instance.admin('/v1/admin/applications', { name: 'Acme Web', kind: 'web', redirect_uris: [REDIRECT] });
  const partner = await instance.admin('/v1/admin/applications', {
    name: 'Partner Reports',
    kind: 'web',
    redirect_uris: [REDIRECT],
    first_party: false,
  });
  const orgs = await instance.admin('/v1/admin/applications', {
    name: 'Acme Teams',
    kind: 'web',
    redirect_uris: [REDIRECT],
    organization_selection: 'optional',
  });
  const owner = await instance.verifiedUser();
  const { access_token: ownerToken } = await json(instance, '/v1/auth/login', { body: { email: owner.email, password: PASSWORD } });
  const org = await json(instance, '/v1/organizations', { token: ownerToken, body: { name: 'Acme Labs', slug: `acme-${tag}` } });
  await json(instance, '/v1/organizations', { token: ownerToken, body: { name: 'Beta Works', slug: `beta-${tag}` } });

  const context = await browser.newContext({ locale: LANGUAGES[language].locale, viewport: { width: 900, height: 760 } });
  const problems = [];
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium logs a page answered with 4xx (the refused sign-in is a 401, the error page a 400).
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
  });
  await page.route(`${REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback' }));

  const seen = [];
  async function check(name) {
    await page.screenshot({ path: path.join(artifacts, `${tag}-${name}.png`), fullPage: true });
    const lang = await page.evaluate(() => document.documentElement.lang);
    assert.equal(lang, language, `${name}: <html lang>`);
    for (const violation of await runAxe(page)) {
      findings.push({ state: name, path: new URL(page.url()).pathname, who: language, theme, violation });
    }
    seen.push(name);
  }

  try {
    // Sign in, and its refusal.
    await page.goto(authorizeUrl(instance, web.id));
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.locator('h1').innerText(), LANGUAGES[language].title);
    const flow = new URL(page.url()).searchParams.get('flow');
    await check('sign-in');
    await page.fill('input[name=email]', owner.email);
    await page.fill('input[name=password]', 'not the password at all');
    await page.locator('button[type=submit]').first().click();
    await page.waitForSelector('.error');
    await check('sign-in-refused');

    // Sign up, then the mailed verification link.
    const newcomer = `new-${tag}@example.com`;
    await page.goto(`${instance.issuer}/signup?flow=${flow}`);
    await check('sign-up');
    await page.fill('input[name=email]', newcomer);
    await page.fill('input[name=password]', PASSWORD);
    await page.locator('button[type=submit]').first().click();
    await page.waitForLoadState();
    await check('sign-up-sent');
    const verification = await instance.mail('verify_email', newcomer);
    assert.equal(new URL(verification.link).origin, instance.issuer, 'the mailed link opens the instance');
    await page.goto(verification.link);
    await check('verify-email');
    await page.locator('button[type=submit]').first().click();
    await page.waitForLoadState();
    await check('email-verified');

    // Forgot password, then the mailed reset link.
    await page.goto(`${instance.issuer}/forgot-password?flow=${flow}`);
    await check('forgot-password');
    await page.fill('input[name=email]', owner.email);
    await page.locator('button[type=submit]').first().click();
    await page.waitForLoadState();
    await check('forgot-password-sent');
    const reset = await instance.mail('password_reset', owner.email);
    await page.goto(reset.link);
    await check('reset-password');

    // The mailed invitation link.
    const invitee = `invitee-${tag}@example.com`;
    await json(instance, `/v1/organizations/${org.id}/invitations`, { token: ownerToken, body: { email: invitee, role: 'member' } });
    const invitation = await instance.mail('invitation', invitee);
    await page.goto(invitation.link);
    await check('accept-invitation');

    // A third-party application asks for consent.
    await page.goto(authorizeUrl(instance, partner.id));
    await page.fill('input[name=email]', owner.email);
    await page.fill('input[name=password]', PASSWORD);
    await page.locator('button[type=submit]').first().click();
    await page.waitForURL(/\/consent/);
    await check('consent');
    await page.locator('button[name=decision][value=allow]').click();
    await page.waitForURL(`${REDIRECT}**`);

    // With the SSO session: an application that offers the user's organizations.
    await page.goto(authorizeUrl(instance, orgs.id));
    await page.waitForURL(/\/choose-organization/);
    await check('choose-organization');

    // An unregistered redirect URI: the error page, never a redirect.
    await page.goto(authorizeUrl(instance, web.id, { redirect_uri: 'https://app.example.com.evil.com/callback' }));
    assert.equal(new URL(page.url()).pathname, '/oauth2/authorize');
    await check('error');

    // Sign out without an id_token_hint: asked first, then signed out.
    await page.goto(`${instance.issuer}/oauth2/logout`);
    await check('sign-out-confirm');
    await page.locator('form[action=logout] button[type=submit]').click();
    await page.waitForLoadState();
    await check('signed-out');
  } catch (error) {
    await page.screenshot({ path: path.join(artifacts, `${tag}-failure.png`), fullPage: true }).catch(() => {});
    throw new Error(`${tag} after ${seen.at(-1) ?? 'the start'} (${page.url()}): ${error.message}`, { cause: error });
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], `${tag}: the pages reported errors`);
}

for (const theme of Object.keys(THEMES)) {
  for (const language of Object.keys(LANGUAGES)) {
    test(`every hosted page, ${theme} theme, ${language}`, () => walk(theme, language));
  }
}

test('axe finds no serious or critical violation on any hosted page', () => {
  const failing = findings.filter((f) => FAILING_IMPACTS.has(f.violation.impact));
  assert.equal(failing.length, 0, `axe violations:\n${describeViolations(failing)}`);
});
