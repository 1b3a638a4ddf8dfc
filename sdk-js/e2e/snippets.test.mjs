// The README's integration snippets are these files, run here against a real instance: each of
// openid-client (snippets/openid-client.mjs), Authlib (snippets/authlib_client.py, with the e2e
// venv's Python) and the `openidconnect` crate (instance/examples/openidconnect_client.rs, built
// by `cargo test`) signs a user in with nothing but the issuer, a client id and a secret. The
// README must contain each snippet's marked part verbatim.
//
// Python: $AUTHSTACK_TEST_PYTHON (scripts/test makes .venv-e2e/ with Authlib and exports it),
// else .venv-e2e/bin/python. The Rust example: $AUTHSTACK_OIDC_EXAMPLE_BIN, else
// target/debug/examples/openidconnect_client. Under CI=true a missing one fails; otherwise its
// test is skipped with the reason.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import { browserSignIn, repoRoot, startInstance } from './instance.mjs';
import { signIn } from './snippets/openid-client.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const PYTHON = process.env.AUTHSTACK_TEST_PYTHON ?? path.join(repoRoot, '.venv-e2e/bin/python');
const RUST_EXAMPLE =
  process.env.AUTHSTACK_OIDC_EXAMPLE_BIN ?? path.join(repoRoot, 'target/debug/examples/openidconnect_client');

let instance;
before(async () => {
  instance = await startInstance();
});
after(async () => {
  if (instance) await instance.stop();
});

/** A web application and a verified user of the instance. */
async function appAndUser() {
  const app = await instance.admin('/v1/admin/applications', { name: 'snippet', kind: 'web', redirect_uris: [REDIRECT_URI] });
  return { app, user: await instance.verifiedUser() };
}

function skipUnlessPresent(t, file, what) {
  if (existsSync(file)) return false;
  assert.ok(process.env.CI !== 'true', `${what} is missing under CI=true: ${file}`);
  t.skip(`${what} is missing: ${file}`);
  return true;
}

/** Runs a snippet program: it prints the authorization URL, reads the callback URL, prints JSON. */
async function runProgram(command, args, env, email) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  assert.ok(!first.done, `no authorization URL: ${stderr}`);
  const callback = await browserSignIn(first.value, email);
  child.stdin.write(`${callback}\n`);
  const answer = await lines.next();
  const code = await exited;
  assert.equal(code, 0, stderr);
  return JSON.parse(answer.value);
}

test('the README holds each snippet verbatim', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  for (const file of [
    path.join(here, 'snippets/openid-client.mjs'),
    path.join(here, 'snippets/authlib_client.py'),
    path.join(repoRoot, 'instance/examples/openidconnect_client.rs'),
  ]) {
    const text = readFileSync(file, 'utf8');
    const marked = text.match(/README:begin\n([\s\S]*?)\n[^\n]*README:end/);
    assert.ok(marked, `${file} has no README:begin/README:end part`);
    assert.ok(readme.includes(marked[1]), `README.md does not contain the marked part of ${path.relative(repoRoot, file)} verbatim`);
  }
});

test('openid-client (Node.js), as in the README', async () => {
  const { app, user } = await appAndUser();
  const { user: info, tokens } = await signIn({
    issuer: instance.issuer,
    clientId: app.id,
    clientSecret: app.client_secret,
    redirectUri: REDIRECT_URI,
    openBrowser: (url) => browserSignIn(url, user.email),
    // Loopback only: the instance under test speaks plain http.
    options: { execute: [client.allowInsecureRequests] },
  });
  assert.equal(info.sub, user.id);
  assert.equal(info.email, user.email);
  assert.equal(tokens.claims().aud, app.id);
});

test('Authlib (Python), as in the README', async (t) => {
  if (skipUnlessPresent(t, PYTHON, 'the e2e venv with Authlib')) return;
  const { app, user } = await appAndUser();
  const info = await runProgram(
    PYTHON,
    [path.join(here, 'snippets/authlib_client.py'), instance.issuer, app.id, app.client_secret, REDIRECT_URI],
    // Authlib refuses plain http unless told: loopback only.
    { AUTHLIB_INSECURE_TRANSPORT: '1' },
    user.email,
  );
  assert.equal(info.sub, user.id);
  assert.equal(info.email, user.email);
  assert.equal(info.email_verified, true);
});

test('openidconnect (Rust), as in the README', async (t) => {
  if (skipUnlessPresent(t, RUST_EXAMPLE, 'the openidconnect_client example (cargo test builds it)')) return;
  const { app, user } = await appAndUser();
  const info = await runProgram(RUST_EXAMPLE, [instance.issuer, app.id, app.client_secret, REDIRECT_URI], {}, user.email);
  assert.equal(info.sub, user.id);
  assert.equal(info.email, user.email);
});
