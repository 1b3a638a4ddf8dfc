// A bare `authstack-instance` (target/debug, SQLite in a temp dir, a free loopback port) for the
// OpenID Connect tests, with the admin API and a browser's part of a sign-in done with fetch:
// following the authorization redirect to the hosted sign-in page, reading its CSRF field and
// cookie, posting the form.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.AUTHSTACK_INSTANCE_BIN ?? path.join(repoRoot, 'target/debug/authstack-instance');
export const PASSWORD = 'a long enough passphrase 42';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts an instance whose issuer is its own loopback URL, with `config` (the instance
 * configuration, JSON) when given; `stop()` ends it and removes its data.
 */
export async function startInstance(config) {
  assert.ok(existsSync(BIN), `${BIN} is missing: cargo build -p authstack-instance`);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'authstack-oidc-'));
  const adminKey = `ask_admin_${randomBytes(32).toString('base64url')}`;
  const args = ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--issuer', issuer];
  if (config) {
    const file = path.join(dataDir, 'config.json');
    await writeFile(file, JSON.stringify(config));
    args.push('--config', file);
  }
  const child = spawn(BIN, args, {
    env: { ...process.env, AUTHSTACK_ADMIN_KEY: adminKey, AUTHSTACK_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const instance = {
    issuer,
    adminKey,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
    /** POST to the admin API, expecting 201. */
    async admin(pathname, body) {
      const response = await fetch(issuer + pathname, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = await response.json();
      assert.equal(response.status, 201, JSON.stringify(json));
      return json;
    },
    /** The newest mail of `kind` to `to` in the instance's outbox, waiting up to 10 s for it. */
    async mail(kind, to) {
      const outbox = path.join(dataDir, 'outbox');
      const until = Date.now() + 10_000;
      for (;;) {
        const found = existsSync(outbox)
          ? readdirSync(outbox)
              .filter((name) => name.endsWith('.json'))
              .sort()
              .map((name) => JSON.parse(readFileSync(path.join(outbox, name), 'utf8')))
              .filter((mail) => mail.kind === kind && mail.to === to)
              .at(-1)
          : undefined;
        if (found) return found;
        if (Date.now() > until) throw new Error(`no ${kind} mail to ${to} in ${outbox}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** A new user with a verified address and PASSWORD. */
    async verifiedUser() {
      const email = `oidc-${randomBytes(4).toString('hex')}@example.com`;
      const user = await instance.admin('/v1/admin/users', { email, password: PASSWORD, email_verified: true });
      return { email, id: user.id };
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authstack-instance exited (${child.exitCode}): ${stderr}`);
    if (await fetch(`${issuer}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`authstack-instance did not become ready: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return instance;
}

/** The `name=value` part of a Set-Cookie header whose name ends with `name`. */
export function cookie(response, name) {
  const set = response.headers.getSetCookie().find((c) => c.split('=')[0].endsWith(name));
  assert.ok(set, `no ${name} cookie in ${response.headers.getSetCookie()}`);
  return set.split(';')[0];
}

export function hidden(html, name) {
  const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
  assert.ok(match, `no ${name} field in ${html}`);
  return match[1];
}

/**
 * What a browser does between an authorization URL and the callback: returns the callback URL.
 * `fetch` stands in for the browser's network (a custom domain resolved to loopback).
 */
export async function browserSignIn(authorizationUrl, email, password = PASSWORD, fetch = globalThis.fetch) {
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  assert.equal(start.status, 303, await start.text());
  const loginUrl = new URL(start.headers.get('location'));
  const page = await fetch(loginUrl, { redirect: 'manual' });
  assert.equal(page.status, 200);
  const html = await page.text();
  const submitted = await fetch(new URL('login', loginUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie(page, 'authstack_flow') },
    body: new URLSearchParams({
      flow: hidden(html, 'flow'),
      csrf: hidden(html, 'csrf'),
      method: 'password',
      email,
      password,
    }),
  });
  assert.equal(submitted.status, 303, await submitted.text());
  return new URL(submitted.headers.get('location'));
}
