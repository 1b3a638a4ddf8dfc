// Starts what the suites need, all on loopback, and stops every process it started (by PID):
// `authstack dev` with a temporary data dir, `vite preview` serving the built example app, and
// the dashboard's build (served by the control plane itself).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
class Child {
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
 * once the demo account's instances are ready.
 */
export async function startAuthstack() {
  const bin = authstackBinary();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'authstack-e2e-'));
  const [listen, gateway] = [await freePort(), await freePort()];
  const child = new Child(
    'authstack dev',
    bin,
    ['dev', '--data-dir', dataDir, '--listen', `127.0.0.1:${listen}`, '--gateway-listen', `127.0.0.1:${gateway}`, '--log-format', 'json'],
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
  const build = (workspace) => {
    console.log(`# building ${workspace}`);
    const built = spawnSync('npm', ['run', 'build', '--workspace', workspace], { cwd: sdkRoot, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`building ${workspace} failed:\n${built.stdout}\n${built.stderr}`);
  };
  for (const pkg of ['client', 'react']) {
    if (!existsSync(path.join(sdkRoot, 'packages', pkg, 'dist'))) build(`packages/${pkg}`);
  }
  build('apps/dashboard');
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
