// The newcomer's path, in real headless Chromium against a fresh `authstack dev`, with nothing but
// what the dashboard shows:
//
//  1. sign up in the dashboard (served by the control plane at /);
//  2. the "check your inbox" screen links to the dashboard's dev mailbox (/dev/mailbox): the
//     verification mail's link verifies the address; sign in if the dashboard asks;
//  3. create an account, subscribe (billing `none`), wait for "Your AuthStack is ready";
//  4. copy the snippet from the page (the install line takes the SDK tarballs from the control
//     plane: `npm install <cp>/sdk/authstack-client.tgz <cp>/sdk/authstack-react.tgz`), click
//     "Allow http://localhost:5173";
//  5. in a fresh temporary directory: a minimal Vite + React app (vite 7, @vitejs/plugin-react 5,
//     React 19 from the npm registry), the snippet's install line run exactly as written, an App
//     using @authstack/react as the snippet does;
//  6. `vite --port 5173 --strictPort --host localhost`; in Chromium an end user signs up through
//     <SignupForm>, verifies through <EmailVerification> (the link's token from the live
//     instance's outbox), sees the signed-in state with the email, signs out and back in through
//     <LoginForm>.
//
// Screenshots: e2e/artifacts/newcomer/NN-<who>-<step>.png (emptied at each run), and
// NN-<who>-failure-step-N.png when a step fails. Every process started is stopped by PID.
// E2E_KEEP_APP=1 keeps the temporary app directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Child,
  SDK_TARBALLS,
  accountInstances,
  ensureDashboardBuilt,
  launchChromium,
  linkToken,
  openPerson,
  packSdk,
  platformSession,
  portIsFree,
  settled,
  startAuthstack,
  stopAuthstack,
  until,
  waitForMail,
} from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.join(here, 'artifacts', 'newcomer');
const PASSWORD = 'a long enough passphrase 42';
const APP_PORT = 5173;
const APP_ORIGIN = `http://localhost:${APP_PORT}`;

let stack;
let browser;
let cp; // the control plane's URL: the dashboard, and the SDK tarballs at /sdk/
let appDir;
let vite;
const counter = { n: 0 };

before(async () => {
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  // The app must run on the origin the dashboard's button allows: fail now, not after minutes.
  if (!(await portIsFree(APP_PORT))) {
    throw new Error(`port ${APP_PORT} on localhost is taken: the newcomer's Vite app needs it (stop what listens there)`);
  }
  ensureDashboardBuilt();
  packSdk(); // sdk-js/dist-packages/authstack-{client,react}.tgz, served by the control plane at /sdk/
  stack = await startAuthstack();
  cp = stack.info.control_plane_url.replace(/\/$/, '');
  browser = await launchChromium();
});

after(async () => {
  // Every process this suite started is stopped by PID, also when a step failed.
  await browser?.close().catch(() => {});
  await vite?.stop();
  if (stack) await stopAuthstack(stack);
  if (appDir && !process.env.E2E_KEEP_APP) rmSync(appDir, { recursive: true, force: true });
});

/** The app's files: what a newcomer writes after reading the snippet (and @authstack/react's README). */
function writeApp(dir, { apiKey, baseUrl }) {
  const files = {
    'package.json': `${JSON.stringify(
      {
        name: 'newcomer-app',
        private: true,
        type: 'module',
        scripts: { dev: 'vite' },
        dependencies: { react: '^19.0.0', 'react-dom': '^19.0.0' },
        devDependencies: { vite: '^7.0.0', '@vitejs/plugin-react': '^5.0.0' },
      },
      null,
      2,
    )}\n`,
    'vite.config.js': `import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({ plugins: [react()] });
`,
    'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <title>Newcomer app</title>
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/src/main.jsx"></script>
  </body>
</html>
`,
    'src/main.jsx': `import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
`,
    // As the snippet shows: the provider with the publishable key and the gateway URL; the
    // forms by path (the verification link's path is /verify-email).
    'src/App.jsx': `import { AuthStackProvider, EmailVerification, LoginForm, SignupForm, useAuth } from '@authstack/react';
import '@authstack/react/styles.css';

export function App() {
  return (
    <AuthStackProvider apiKey=${JSON.stringify(apiKey)} baseUrl=${JSON.stringify(baseUrl)}>
      <main>
        <Home />
      </main>
    </AuthStackProvider>
  );
}

function Home() {
  const { isLoaded, isSignedIn, user, signOut } = useAuth();
  if (!isLoaded) return <p>Loading…</p>;
  if (isSignedIn) {
    return (
      <>
        <p data-testid="signed-in">Signed in as {user.email}</p>
        <button type="button" onClick={() => signOut().then(() => window.location.assign('/sign-in'))}>
          Sign out
        </button>
      </>
    );
  }
  const path = window.location.pathname;
  if (path === '/verify-email') return <EmailVerification />;
  if (path === '/sign-in') return <LoginForm onSignIn={() => window.history.replaceState(null, '', '/')} />;
  return <SignupForm signInUrl="/sign-in" />;
}
`,
  };
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** Runs a shell command line as written, in `cwd`; resolves with `{ code, output }`. */
function sh(line, { cwd, env, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, output });
    });
  });
}

test('the newcomer: dashboard sign-up, dev mailbox, ready snippet, npm install from the control plane, a Vite app signs an end user in', { timeout: 600_000 }, async (t) => {
  const stamp = Date.now();
  const owner = `newcomer+${stamp}@example.com`;
  const endUser = `first-user+${stamp}@example.com`;
  const accountName = `Newcomer ${stamp}`;
  const N = await openPerson(browser, { dir: artifacts, name: 'newcomer', counter });
  let E; // the end user, in the newcomer's app
  let failed = false;
  // Shared between the steps.
  let snippet;
  let installLine;
  let apiKey;
  let baseUrl;
  let session;
  let accountId;
  let liveInstance;

  /** A sub-step; after a failure the remaining ones are skipped (each builds on the one before). */
  const step = (name, fn) =>
    t.test(name, { skip: failed ? 'an earlier step failed' : false }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        for (const who of [N, E].filter(Boolean)) await who.shot(`failure-step-${name.split('.')[0]}`).catch(() => {});
        err.message += `\nbrowser problems: ${JSON.stringify([...N.problems, ...(E?.problems ?? [])])}`;
        if (vite) err.message += `\n--- vite output ---\n${vite.tail()}`;
        throw err;
      }
    });

  try {
    await step('1. sign up in the dashboard', async () => {
      const { page } = N;
      await page.goto(`${cp}/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await N.shot('dashboard-sign-in');
      await page.getByRole('link', { name: /Sign up/ }).click();
      await page.getByRole('heading', { name: 'Create your account' }).waitFor();
      await page.getByLabel('Name').fill('Nora Newcomer');
      await page.getByLabel('Email address').fill(owner);
      await page.getByLabel('Password').fill(PASSWORD);
      await N.shot('dashboard-sign-up');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('status').filter({ hasText: 'Check your inbox' }).waitFor();
      await N.shot('dashboard-check-inbox');
    });

    await step('2. the dev mailbox (linked from "check your inbox"): the verification link verifies; sign in', async () => {
      const { page } = N;
      const mailboxLink = page.getByRole('link', { name: /mailbox/i }).first();
      await mailboxLink.waitFor({ timeout: 10_000 }).catch(async () => {
        // The dashboard links the mailbox only when the control plane has one.
        const api = await fetch(`${cp}/v1/dev/mailbox`).then((r) => `${r.status} ${r.headers.get('content-type')}`, (e) => e.message);
        throw new Error(`the "Check your inbox" screen has no link to the dev mailbox (/dev/mailbox); GET /v1/dev/mailbox answers ${api}`);
      });
      assert.match(await mailboxLink.getAttribute('href'), /\/dev\/mailbox/);
      await mailboxLink.click();
      await page.waitForURL(/\/dev\/mailbox/);
      // The page lists each instance's outbox (a table row per mail, its link as a link) and
      // asks again every 2 s: the mail shows up on its own.
      const mail = page
        .getByRole('row')
        .or(page.getByRole('listitem'))
        .filter({ hasText: owner })
        .filter({ has: page.getByRole('link', { name: /verify-email/ }) });
      await mail.first().waitFor({ timeout: 30_000 });
      await N.shot('dev-mailbox');
      const link = mail.first().getByRole('link', { name: /verify-email/ });
      const href = await link.getAttribute('href');
      assert.match(href ?? '', /verify-email\?token=/, `the mail's link opens /verify-email?token=…: ${href}`);
      if ((await link.getAttribute('target')) === '_blank') {
        const [opened] = await Promise.all([page.context().waitForEvent('page'), link.click()]);
        await opened.waitForLoadState();
        await page.goto(opened.url()); // carry on in the same tab (one set of screenshots)
        await opened.close();
      } else {
        await link.click();
      }
      await page.waitForURL(/\/verify-email|\/accounts|\/sign-in/);
      const accounts = page.getByRole('heading', { name: 'Accounts', level: 1 });
      const signIn = page.getByRole('heading', { name: 'Sign in' });
      await accounts.or(signIn).first().waitFor({ timeout: 30_000 });
      await N.shot('verified');
      if (await signIn.isVisible()) {
        await page.getByLabel('Email address').fill(owner);
        await page.getByLabel('Password').fill(PASSWORD);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await accounts.waitFor({ timeout: 30_000 });
      }
      await settled(page);
      await N.shot('accounts-first-visit');
    });

    await step('3. create an account, subscribe (billing none) and wait for "Your AuthStack is ready"', async () => {
      const { page } = N;
      const create = page.locator('form').filter({ has: page.getByRole('heading', { name: 'Create an account' }) });
      await create.getByLabel('Account name').fill(accountName);
      await create.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(/\/plans$/);
      await page.getByRole('button', { name: 'Choose Starter' }).waitFor();
      await N.shot('plans');
      await page.getByRole('button', { name: 'Choose Starter' }).click();
      await page.waitForURL(/\/instances$/);
      const ready = page.getByRole('region', { name: 'Your AuthStack is ready' });
      await ready.waitFor({ timeout: 120_000 });
      await ready.locator('pre code').waitFor();
      await N.shot('ready');

      session = await platformSession(stack.info, owner, PASSWORD);
      accountId = session.accounts.find((a) => a.name === accountName)?.id;
      assert.ok(accountId, `the account ${accountName} exists`);
      ({ live: liveInstance } = await accountInstances(session, accountId));
      assert.equal(liveInstance?.state, 'ready');
    });

    await step('4. copy the snippet from the page; "Allow http://localhost:5173"', async () => {
      const { page } = N;
      const ready = page.getByRole('region', { name: 'Your AuthStack is ready' });
      const code = ready.locator('pre code');
      snippet = await code.innerText();
      // A snippet without a key yet offers to create one for it.
      if (!/apiKey="ask_(live|test)_[A-Za-z0-9_-]{8,}"/.test(snippet)) {
        const createKey = ready.getByRole('button', { name: /publishable key/i });
        assert.ok((await createKey.count()) > 0, `the snippet has no publishable key and no button to create one:\n${snippet}`);
        await createKey.click();
        await until('the snippet to show a publishable key', 20_000, async () =>
          /apiKey="ask_(live|test)_[A-Za-z0-9_-]{8,}"/.test((snippet = await code.innerText())),
        );
      }
      await N.shot('snippet');
      t.diagnostic('the snippet on the page:');
      for (const line of snippet.replace(/ask_(live|test)_[A-Za-z0-9_-]+/g, 'ask_$1_…').split('\n')) t.diagnostic(`  ${line}`);
      installLine = snippet.split('\n').map((l) => l.trim()).find((l) => l.startsWith('npm install'));
      // What the control plane serves there (the dashboard's index.html is not a tarball).
      const served = [];
      for (const file of Object.values(SDK_TARBALLS)) {
        const answer = await fetch(`${cp}/sdk/${file}`);
        served.push(`GET /sdk/${file}: ${answer.status} ${answer.headers.get('content-type')}`);
        await answer.arrayBuffer();
      }
      for (const line of served) t.diagnostic(line);
      assert.equal(
        installLine,
        `npm install ${cp}/sdk/${SDK_TARBALLS.client} ${cp}/sdk/${SDK_TARBALLS.react}`,
        `the install line takes both SDK tarballs from the control plane (${served.join('; ')})`,
      );
      apiKey = snippet.match(/apiKey="([^"]+)"/)?.[1];
      baseUrl = snippet.match(/baseUrl="([^"]+)"/)?.[1];
      assert.ok(apiKey?.startsWith('ask_live_'), 'the snippet has a live publishable key');
      assert.equal(baseUrl?.replace(/\/$/, ''), stack.info.gateway_url.replace(/\/$/, ''), 'the snippet points at the gateway');

      const allow = page.getByRole('button', { name: `Allow ${APP_ORIGIN}` });
      await allow.waitFor({ timeout: 5_000 }).catch(() => {
        throw new Error(`the ready panel has no "Allow ${APP_ORIGIN}" button`);
      });
      await allow.click();
      await until(`${APP_ORIGIN} among the live instance's allowed origins`, 30_000, async () => {
        const { live } = await accountInstances(session, accountId);
        return (live.allowed_origins ?? []).includes(APP_ORIGIN);
      });
      // The button is gone; the live instance deploys the new origins and keeps serving meanwhile
      // (so the panel stays, with its key); the app waits for that deploy to run.
      await until('the "Allow" button to go', 20_000, async () => (await allow.count()) === 0);
      await N.shot('origin-allowed');
      await until('the live instance to run the revision with the new origin', 120_000, async () => {
        const { live } = await accountInstances(session, accountId);
        return live.state === 'ready' && live.current_revision === live.revision;
      });
      await ready.waitFor({ timeout: 30_000 });
      await ready.locator('pre code').waitFor();
      assert.ok(
        (await ready.locator('pre code').innerText()).includes(apiKey),
        'after the deploy of the new origin the ready panel still shows the snippet with the key created for it',
      );
      await N.shot('ready-after-allow');
    });

    await step('5. a fresh Vite + React app; the snippet\'s npm install line as written; an App with @authstack/react', async () => {
      appDir = mkdtempSync(path.join(os.tmpdir(), 'authstack-newcomer-app-'));
      writeApp(appDir, { apiKey, baseUrl });
      const started = Date.now();
      // As written; the log level (an npm setting from the environment) lists every request.
      const install = await sh(installLine, {
        cwd: appDir,
        env: { npm_config_loglevel: 'http', npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' },
        timeoutMs: 300_000,
      });
      t.diagnostic(`${installLine}: exit ${install.code} in ${Math.round((Date.now() - started) / 1000)} s`);
      const requests = install.output.split('\n').filter((l) => /npm http fetch/.test(l));
      const registryAuthstack = requests.filter((l) => /registry\.npmjs\.org\/@authstack/.test(l));
      assert.deepEqual(registryAuthstack, [], 'npm asked the registry for the unpublished @authstack packages');
      assert.equal(install.code, 0, `the snippet's npm install failed:\n${install.output.split('\n').slice(-40).join('\n')}`);
      const pkg = JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8'));
      assert.equal(pkg.dependencies['@authstack/client'], `${cp}/sdk/${SDK_TARBALLS.client}`);
      assert.equal(pkg.dependencies['@authstack/react'], `${cp}/sdk/${SDK_TARBALLS.react}`);
      for (const name of ['@authstack/client', '@authstack/react', 'react', 'react-dom', 'vite', '@vitejs/plugin-react']) {
        assert.ok(existsSync(path.join(appDir, 'node_modules', name, 'package.json')), `${name} is installed`);
      }
      const version = (name) => JSON.parse(readFileSync(path.join(appDir, 'node_modules', name, 'package.json'), 'utf8')).version;
      assert.match(version('vite'), /^7\./);
      assert.match(version('@vitejs/plugin-react'), /^5\./);
      assert.match(version('react'), /^19\./);
      // One @authstack/client: the tarball's, also for @authstack/react.
      assert.ok(!existsSync(path.join(appDir, 'node_modules/@authstack/react/node_modules/@authstack/client')), 'a second @authstack/client was installed');
    });

    await step('6. vite on localhost:5173: an end user signs up, verifies, is signed in with the email; signs out and in again', async () => {
      vite = new Child('vite', process.execPath, [path.join(appDir, 'node_modules/vite/bin/vite.js'), '--port', String(APP_PORT), '--strictPort', '--host', 'localhost'], {
        cwd: appDir,
        env: { ...process.env, BROWSER: 'none' },
      });
      await until('vite to answer on localhost:5173', 60_000, async () => {
        if (vite.exitedEarly) throw new Error(`vite exited (${JSON.stringify(vite.exitedEarly)})`);
        return (await fetch(APP_ORIGIN)).ok;
      });

      E = await openPerson(browser, { dir: artifacts, name: 'end-user', counter });
      const { page } = E;
      await page.goto(APP_ORIGIN);
      await page.getByRole('heading', { name: 'Create your account' }).waitFor({ timeout: 30_000 });
      await page.getByLabel('Name').fill('Fiona First');
      await page.getByLabel('Email address').fill(endUser);
      await page.getByLabel('Password').fill(PASSWORD);
      await E.shot('app-sign-up');
      const since = Date.now();
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByText(`Check your inbox: we sent a link to ${endUser}`).waitFor();
      await E.shot('app-check-inbox');

      const mail = await waitForMail(stack.dataDir, liveInstance.id, { to: endUser, kind: 'verify_email', after: since - 1000 });
      await page.goto(`${APP_ORIGIN}/verify-email?token=${encodeURIComponent(linkToken(mail.link))}`);
      const signedIn = page.getByTestId('signed-in');
      await signedIn.waitFor({ timeout: 30_000 });
      assert.equal(await signedIn.innerText(), `Signed in as ${endUser}`);
      await E.shot('app-signed-in');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await page.getByLabel('Email address').fill(endUser);
      await page.getByLabel('Password').fill(PASSWORD);
      await E.shot('app-sign-in');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await signedIn.waitFor();
      assert.equal(await signedIn.innerText(), `Signed in as ${endUser}`);
      await E.shot('app-signed-in-again');

      assert.deepEqual([...N.problems, ...E.problems], []);
    });
  } finally {
    await N.close();
    await E?.close();
  }
});
