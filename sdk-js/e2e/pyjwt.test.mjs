// A Python API verifies an AuthStack access token with PyJWT alone: an end user signs up and in on
// the demo account's live instance through the gateway (its publishable key from dev.json, as
// @authstack/client calls it), then pyjwt_verify.py reads `iss` from the token, fetches
// `{iss}/.well-known/openid-configuration` with plain urllib, builds `jwt.PyJWKClient(jwks_uri)`
// and `jwt.decode`s the token (RS256, audience and issuer checked) — with no custom headers
// anywhere, as any OpenID Connect library would.
//
// Python: $AUTHSTACK_TEST_PYTHON (scripts/test makes .venv-e2e/ with PyJWT[crypto] and exports
// it), else the repository's .venv-e2e/bin/python. Without a Python that imports jwt the test is
// skipped with the reason, and fails under CI=true.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { accountInstances, decodeJwt, endUserLogin, platformSession, repoRoot, startAuthstack, stopAuthstack } from './stack.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'pyjwt_verify.py');
const PASSWORD = 'a long enough passphrase 42';

/** The Python to run, or why there is none. */
function findPython() {
  const python = process.env.AUTHSTACK_TEST_PYTHON ?? path.join(repoRoot, '.venv-e2e/bin/python');
  const from = process.env.AUTHSTACK_TEST_PYTHON ? 'AUTHSTACK_TEST_PYTHON' : '.venv-e2e/bin/python';
  if (!existsSync(python)) {
    return { missing: `no Python with PyJWT: ${from} (${python}) does not exist; scripts/test creates .venv-e2e/ and sets AUTHSTACK_TEST_PYTHON` };
  }
  const probe = spawnSync(python, ['-c', 'import jwt, cryptography; print(jwt.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return { missing: `${python} (${from}) cannot import jwt and cryptography: pip install 'PyJWT[crypto]'\n${probe.stderr}` };
  }
  return { python, version: probe.stdout.trim() };
}

const found = findPython();
const ci = process.env.CI === 'true' || process.env.CI === '1';
if (found.missing && ci) {
  test('PyJWT verifies an access token (Python required under CI)', () => {
    assert.fail(found.missing);
  });
}

let stack;
after(async () => {
  if (stack) await stopAuthstack(stack);
});

test(
  "PyJWT's PyJWKClient, with no custom headers, verifies an access token of a customer instance",
  // Under CI a missing Python is the failure above; elsewhere the reason to skip.
  { timeout: 180_000, skip: found.missing ?? false },
  async (t) => {
    t.diagnostic(`python: ${found.python} (PyJWT ${found.version})`);
    stack = await startAuthstack();
    const { info } = stack;

    // The demo account's live instance (its id names its outbox).
    const owner = await platformSession(info, info.demo.owner_email, info.demo.owner_password, { accountId: info.demo.account_id });
    const { live } = await accountInstances(owner, info.demo.account_id);
    assert.ok(live, 'the demo account has a live instance');

    const email = `py-user+${Date.now()}@example.com`;
    const login = await endUserLogin({
      gatewayUrl: info.gateway_url,
      publishableKey: info.demo.live_publishable_key,
      dataDir: stack.dataDir,
      instanceId: live.id,
      email,
      password: PASSWORD,
      name: 'Py User',
    });
    const claims = decodeJwt(login.access_token);
    t.diagnostic(`token: iss ${claims.iss}, aud ${JSON.stringify(claims.aud)}, alg ${decodeJwtHeader(login.access_token).alg}`);
    assert.equal(claims.email, email);

    const verified = spawnSync(found.python, [script], { input: login.access_token, encoding: 'utf8', timeout: 60_000 });
    assert.equal(
      verified.status,
      0,
      `pyjwt_verify.py failed (exit ${verified.status}):\n${verified.stderr}${verified.stdout}`,
    );
    assert.equal(verified.stdout.trim(), claims.sub, 'pyjwt_verify.py prints the verified subject');
  },
);

function decodeJwtHeader(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString('utf8'));
}
