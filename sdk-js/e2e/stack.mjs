// Starts what the suites need, all on loopback, and stops every process it started (by PID):
// `authstack dev` with a temporary data dir, `vite preview` serving the built example app, the
// dashboard's build (served by the control plane itself) and the SDK tarballs it serves at /sdk/.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sdkRoot = path.resolve(here, '..');
export const repoRoot = path.resolve(sdkRoot, '..');
const exampleDir = path.join(sdkRoot, 'examples/saas-demo');
export const dashboardDir = path.join(sdkRoot, 'apps/dashboard');

/** A port nothing listens on right now (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Whether nothing listens on `port` of the loopback addresses `localhost` may mean (127.0.0.1
 * and ::1): for a server that must take that very port (e.g. Vite's 5173 with `--strictPort`).
 */
export async function portIsFree(port) {
  const tryListen = (host) =>
    new Promise((resolve) => {
      const server = net.createServer();
      server.unref();
      server.once('error', (err) => resolve(err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT'));
      server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
    });
  return (await tryListen('127.0.0.1')) && (await tryListen('::1'));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 200 ms until it returns something truthy (that value) or `timeoutMs` passes. */
export async function until(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/** The `authstack` binary; built with cargo when missing (`AUTHSTACK_BIN` overrides). */
export function authstackBinary() {
  if (process.env.AUTHSTACK_BIN) return process.env.AUTHSTACK_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(repoRoot, 'target');
  const bin = path.join(target, 'debug/authstack');
  if (!existsSync(bin)) {
    console.log('# building target/debug/authstack (cargo build -p authstack-control-plane --bin authstack)');
    const built = spawnSync('cargo', ['build', '-p', 'authstack-control-plane', '--bin', 'authstack'], {
      cwd: repoRoot,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error('cargo build of the authstack binary failed');
  }
  return bin;
}

/** A child process we started, with its output kept for the failure report. */
export class Child {
  constructor(name, command, args, options) {
    this.name = name;
    this.output = '';
    this.process = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.process.pid;
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    this.exitedEarly = null;
    this.exited.then((status) => {
      this.exitedEarly = status;
    });
    for (const stream of [this.process.stdout, this.process.stderr]) {
      stream.on('data', (chunk) => {
        this.output = (this.output + chunk.toString()).slice(-20_000);
      });
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 10_000) {
    if (this.exitedEarly) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines of output, with anything looking like a key or password masked. */
  tail(lines = 40) {
    return this.output
      .split('\n')
      .slice(-lines)
      .join('\n')
      .replace(/\b(pk|sk|ask|rt)_[A-Za-z0-9_]+/g, '$1_…')
      .replace(/(\/\s*)[A-Za-z0-9_-]{12,}(\s*\))/g, '$1…$2');
  }
}

/**
 * `authstack dev` on free loopback ports with a fresh data dir. Resolves with dev.json's content
 * once the demo account's instances are ready. `args` are added to its command line.
 */
export async function startAuthstack({ args = [] } = {}) {
  const bin = authstackBinary();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'authstack-e2e-'));
  const [listen, gateway] = [await freePort(), await freePort()];
  const child = new Child(
    'authstack dev',
    bin,
    ['dev', '--data-dir', dataDir, '--listen', `127.0.0.1:${listen}`, '--gateway-listen', `127.0.0.1:${gateway}`, '--log-format', 'json', ...args],
    { cwd: repoRoot, env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' } },
  );
  const devJson = path.join(dataDir, 'dev.json');
  try {
    // The banner is printed after dev.json is written and the demo instances are ready.
    await until('authstack dev to print its banner', 120_000, () => {
      if (child.exitedEarly) throw new Error(`authstack dev exited (${JSON.stringify(child.exitedEarly)})`);
      return child.output.includes('AuthStack is running') && existsSync(devJson);
    });
  } catch (err) {
    await stopAuthstack({ child, dataDir });
    err.message += `\n--- authstack dev output ---\n${child.tail()}`;
    throw err;
  }
  const info = JSON.parse(readFileSync(devJson, 'utf8'));
  return { child, dataDir, devJson, info };
}

/**
 * The PIDs of the local instances `authstack dev` started under `dataDir`: each instance dir
 * has `pid.<port>` per serving process (blue/green deploys run two for a moment), or the
 * older single `pid`.
 */
function instancePids(dataDir) {
  const dir = path.join(dataDir, 'instances');
  if (!existsSync(dir)) return [];
  const pids = [];
  for (const id of readdirSync(dir)) {
    let files = [];
    try {
      files = readdirSync(path.join(dir, id)).filter((name) => name === 'pid' || /^pid\.\d+$/.test(name));
    } catch {
      continue;
    }
    for (const file of files) {
      try {
        pids.push(Number.parseInt(readFileSync(path.join(dir, id, file), 'utf8').trim(), 10));
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return pids.filter((pid) => Number.isInteger(pid) && pid > 0);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops `authstack dev` (it stops its instances on SIGTERM); instances still running
 * afterwards (it was killed) are stopped by the PIDs in their pid files. Removes the data dir.
 */
export async function stopAuthstack({ child, dataDir }) {
  const pids = instancePids(dataDir);
  await child.stop(20_000);
  for (const pid of instancePids(dataDir).concat(pids)) {
    if (!alive(pid)) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    if (alive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
}

/** Builds the example app against `devJson` (its Vite config reads the key and gateway URL). */
export function buildExample(devJson) {
  const built = spawnSync('npm', ['run', 'build', '--workspace', 'examples/saas-demo'], {
    cwd: sdkRoot,
    env: { ...process.env, AUTHSTACK_DEV_JSON: devJson },
    encoding: 'utf8',
  });
  if (built.status !== 0) {
    throw new Error(`building the example failed:\n${built.stdout}\n${built.stderr}`);
  }
}

/** `vite preview` of the built example on a free loopback port (its dev mailbox reads `devJson`'s data dir). */
export async function serveExample(devJson) {
  const port = await freePort();
  const vite = path.join(sdkRoot, 'node_modules/vite/bin/vite.js');
  const child = new Child('vite preview', process.execPath, [vite, 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: exampleDir,
    env: { ...process.env, AUTHSTACK_DEV_JSON: devJson },
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await until('vite preview to answer', 30_000, async () => {
      if (child.exitedEarly) throw new Error(`vite preview exited (${JSON.stringify(child.exitedEarly)})`);
      const response = await fetch(origin);
      return response.ok;
    });
  } catch (err) {
    await child.stop();
    err.message += `\n--- vite preview output ---\n${child.tail()}`;
    throw err;
  }
  return { child, origin };
}

/** Waits for the newest mail of `kind` to `to` in the outbox of the instance `instanceId`. */
export async function waitForMail(dataDir, instanceId, { to, kind, after = 0 }) {
  const outbox = path.join(dataDir, 'instances', instanceId, 'data', 'outbox');
  return until(`a ${kind} mail to ${to}`, 20_000, () => {
    if (!existsSync(outbox)) return null;
    const mails = readdirSync(outbox)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => ({ name, mail: JSON.parse(readFileSync(path.join(outbox, name), 'utf8')) }))
      .filter(({ name, mail }) => mail.to === to && mail.kind === kind && Number.parseInt(name, 10) >= after);
    return mails.at(-1)?.mail ?? null;
  });
}

/** The `token` query parameter of an emailed link (whatever host the link points at). */
export function linkToken(link) {
  const token = new URL(link).searchParams.get('token');
  if (!token) throw new Error(`the mailed link has no token: ${link}`);
  return token;
}

/** A JSON call from Node (no browser, no Origin header); resolves with `{ status, body }`, never throws on HTTP errors. */
export async function callJson(url, { method = 'GET', headers = {}, body } = {}) {
  const response = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: response.status, body: parsed };
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(file) : statSync(file).mtimeMs);
  }
  return newest;
}

/**
 * Makes sure `apps/dashboard/dist` (what `authstack dev` serves at `/` when started in the
 * repository root) is there and newer than the dashboard's sources: builds it otherwise (and
 * the SDK packages it imports when they were never built). `E2E_BUILD_DASHBOARD=1` always builds.
 */
export function ensureDashboardBuilt() {
  if (process.env.AUTHSTACK_DASHBOARD_DIR) return; // `authstack dev` serves that build instead
  const index = path.join(dashboardDir, 'dist/index.html');
  const fresh =
    !process.env.E2E_BUILD_DASHBOARD &&
    existsSync(index) &&
    statSync(index).mtimeMs >= newestMtime(path.join(dashboardDir, 'src'));
  if (fresh) return;
  for (const pkg of ['client', 'react']) {
    if (!existsSync(path.join(sdkRoot, 'packages', pkg, 'dist'))) buildWorkspace(`packages/${pkg}`);
  }
  buildWorkspace('apps/dashboard');
}

/** `npm run build` of one workspace of sdk-js/ (e.g. `packages/client`); throws with its output when it fails. */
export function buildWorkspace(workspace) {
  console.log(`# building ${workspace}`);
  const built = spawnSync('npm', ['run', 'build', '--workspace', workspace], { cwd: sdkRoot, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building ${workspace} failed:\n${built.stdout}\n${built.stderr}`);
}

/** Where the SDK tarballs go; the control plane serves them at `/sdk/<file>`. */
export const distPackagesDir = path.join(sdkRoot, 'dist-packages');
/** The tarball of each package, by the name the control plane serves it under. */
export const SDK_TARBALLS = { client: 'authstack-client.tgz', react: 'authstack-react.tgz' };

/**
 * Builds @authstack/client and @authstack/react (when their dist is missing or older than their
 * sources) and packs them into `sdk-js/dist-packages/authstack-client.tgz` and
 * `authstack-react.tgz`, what `authstack dev` serves at `/sdk/…` (the dashboard's install line).
 * Run before `startAuthstack`.
 */
export function packSdk() {
  mkdirSync(distPackagesDir, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'authstack-pack-'));
  try {
    for (const [pkg, file] of Object.entries(SDK_TARBALLS)) {
      const dir = path.join(sdkRoot, 'packages', pkg);
      const index = path.join(dir, 'dist/index.js');
      const stale =
        !existsSync(index) ||
        statSync(index).mtimeMs < Math.max(newestMtime(path.join(dir, 'src')), statSync(path.join(dir, 'package.json')).mtimeMs);
      if (stale) buildWorkspace(`packages/${pkg}`);
      const packed = spawnSync('npm', ['pack', '--workspace', `packages/${pkg}`, '--pack-destination', scratch, '--json'], {
        cwd: sdkRoot,
        encoding: 'utf8',
      });
      if (packed.status !== 0) throw new Error(`npm pack of packages/${pkg} failed:\n${packed.stdout}\n${packed.stderr}`);
      const [{ filename }] = JSON.parse(packed.stdout);
      renameSync(path.join(scratch, filename), path.join(distPackagesDir, file));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Debian's headless Chromium (or `CHROMIUM_PATH`), driven by playwright-core with a fresh temporary profile. */
export async function launchChromium() {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`${executablePath} not found: install Debian's chromium (apt-get install -y chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** The claims of a JWT, unverified. */
export const decodeJwt = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));

/**
 * A platform session from Node: `email` signs in on the platform instance through the gateway
 * (the platform's publishable key) and the session switches into the organization that owns an
 * account (`accountId`, else the first organization with any account), as the dashboard does.
 * Resolves with `{ token, accounts, call(path, init) }`; `call` is a control-plane JSON call
 * with that token.
 */
export async function platformSession(info, email, password, { accountId } = {}) {
  const platform = (p, init = {}) =>
    callJson(`${info.gateway_url}${p}`, { ...init, headers: { 'x-authstack-key': info.platform_publishable_key, ...init.headers } });
  const controlPlane = (token, p, init = {}) =>
    callJson(`${info.control_plane_url.replace(/\/$/, '')}${p}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });
  const login = await platform('/v1/auth/login', { method: 'POST', body: { email, password } });
  if (login.status !== 200) throw new Error(`platform login of ${email}: ${login.status} ${JSON.stringify(login.body)}`);
  const bearer = { authorization: `Bearer ${login.body.access_token}` };
  const orgs = await platform('/v1/organizations', { headers: bearer });
  if (orgs.status !== 200) throw new Error(`GET /v1/organizations: ${orgs.status} ${JSON.stringify(orgs.body)}`);
  for (const org of orgs.body.data) {
    const switched = await platform(`/v1/organizations/${org.id}/switch`, { method: 'POST', headers: bearer });
    if (switched.status !== 200) throw new Error(`switching to ${org.id}: ${switched.status} ${JSON.stringify(switched.body)}`);
    const token = switched.body.access_token;
    const accounts = await controlPlane(token, '/v1/accounts');
    const data = accounts.status === 200 ? accounts.body.data : [];
    if (accountId ? data.some((a) => a.id === accountId) : data.length > 0) {
      return { token, accounts: data, call: (p, init) => controlPlane(token, p, init) };
    }
  }
  throw new Error(`none of ${email}'s organizations owns ${accountId ? `the account ${accountId}` : 'an account'}`);
}

/** The instances of an account (`{ live, test }`, each as the control plane lists it) in a platform session. */
export async function accountInstances(session, accountId) {
  const listed = await session.call(`/v1/accounts/${accountId}/instances`);
  if (listed.status !== 200) throw new Error(`GET /v1/accounts/${accountId}/instances: ${listed.status} ${JSON.stringify(listed.body)}`);
  return Object.fromEntries(listed.body.data.map((instance) => [instance.environment, instance]));
}

/**
 * An end user of a customer instance, from Node through the gateway with a publishable key (as
 * @authstack/client calls it): signs up, verifies the email with the link's token from the
 * instance's outbox when the instance asks for it, signs in. Resolves with the login's body
 * (`access_token`, …).
 */
export async function endUserLogin({ gatewayUrl, publishableKey, dataDir, instanceId, email, password, name }) {
  const call = (p, body) => callJson(`${gatewayUrl}${p}`, { method: 'POST', headers: { 'x-authstack-key': publishableKey }, body });
  const since = Date.now();
  const signup = await call('/v1/auth/signup', { email, password, name });
  if (signup.status === 202) {
    const mail = await waitForMail(dataDir, instanceId, { to: email, kind: 'verify_email', after: since - 1000 });
    const verified = await call('/v1/auth/email/verify', { token: linkToken(mail.link) });
    if (verified.status !== 200) throw new Error(`verifying ${email}: ${verified.status} ${JSON.stringify(verified.body)}`);
  } else if (signup.status !== 200 && signup.status !== 201) {
    throw new Error(`signing ${email} up: ${signup.status} ${JSON.stringify(signup.body)}`);
  }
  const login = await call('/v1/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`login of ${email}: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body;
}

/**
 * A fresh browser context (its own storage): one person at one computer. `shot(label)` writes
 * `dir/NN-<name>-<label>.png` (numbered across everyone made with the same `counter`);
 * `problems` collects page errors and console errors (refused requests, which Chromium logs
 * itself, excepted: the page shows them).
 */
export async function openPerson(browser, { dir, name, counter = { n: 0 }, viewport = { width: 1280, height: 860 } }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${name}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(msg.text())) return;
    problems.push(`${name}: console: ${msg.text()}`);
  });
  return {
    name,
    page,
    problems,
    async shot(label) {
      counter.n += 1;
      const file = `${String(counter.n).padStart(2, '0')}-${name}-${label}.png`;
      await page.screenshot({ path: path.join(dir, file), fullPage: true });
      return file;
    },
    close: () => context.close(),
  };
}

/** Waits until a dashboard page shows content, not a loading state. */
export async function settled(page) {
  await page.locator('main').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('.loading'), null, { timeout: 20_000 });
}
