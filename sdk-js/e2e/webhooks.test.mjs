// Webhooks verified by the npm `standardwebhooks` package (the Standard Webhooks reference
// library), not by our own HMAC: a real `authstack-instance` (target/debug) sends `user.created`
// to a receiver on loopback after a sign-up; the library accepts the body and headers under the
// endpoint's secret (shown once, by POST .../rotate-secret; the list shows its first characters)
// and refuses a tampered body or another secret. After a second rotation a delivery verifies
// under the new secret and under the old one; POST .../test sends a `webhook.test` that verifies.
// An organization's own endpoint (POST /v1/organizations/{id}/webhooks) gets its organization's
// events, verified under the secret its create answer showed.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { PASSWORD, startInstance } from './instance.mjs';

// The receiver listens on loopback, which a production instance refuses to call.
process.env.AUTHSTACK_WEBHOOKS_ALLOW_PRIVATE = 'true';

const received = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    received.push({ path: req.url, headers: req.headers, body });
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${receiver.address().port}/hooks`;

const instance = await startInstance({
  auth: { require_email_verification: false },
  webhooks: [{ url, events: ['user.created'], description: 'e2e' }],
});
after(async () => {
  await instance.stop();
  receiver.close();
});

async function signup(email) {
  const response = await fetch(`${instance.issuer}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  assert.ok(response.ok, `signup answered ${response.status}`);
}

async function delivery(n) {
  const until = Date.now() + 15_000;
  while (received.length < n) {
    assert.ok(Date.now() < until, `delivery ${n} within 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return received[n - 1];
}

async function adminJson(method, pathname) {
  const response = await fetch(instance.issuer + pathname, {
    method,
    headers: { authorization: `Bearer ${instance.adminKey}` },
  });
  const json = await response.json();
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

function otherSecret() {
  return `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
}

let secret;

test('standardwebhooks verifies a user.created delivery', async () => {
  const { data } = await adminJson('GET', '/v1/admin/webhooks');
  assert.equal(data[0].secret, undefined);
  ({ secret } = await adminJson('POST', `/v1/admin/webhooks/${data[0].id}/rotate-secret`));
  assert.match(secret, /^whsec_/);
  assert.match(data[0].secret_prefix, /^whsec_.{4}$/);
  await signup('ada@example.com');
  const { headers, body } = await delivery(1);

  const payload = new Webhook(secret).verify(body, headers);
  assert.equal(payload.type, 'user.created');
  assert.equal(payload.version, 1);
  assert.equal(payload.id, headers['webhook-id']);
  assert.equal(payload.data.action, 'auth.signup');

  assert.throws(() => new Webhook(secret).verify(body.replace('user.created', 'user.deleted'), headers), WebhookVerificationError);
  assert.throws(() => new Webhook(otherSecret()).verify(body, headers), WebhookVerificationError);
});

test('after a rotation, a delivery verifies under the new and the old secret', async () => {
  const { data } = await adminJson('GET', '/v1/admin/webhooks');
  const old = secret;
  assert.equal(data[0].secret_prefix, old.slice(0, 10));
  const rotated = await adminJson('POST', `/v1/admin/webhooks/${data[0].id}/rotate-secret`);
  assert.notEqual(rotated.secret, old);

  await signup('bob@example.com');
  const { headers, body } = await delivery(2);
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
  assert.equal(new Webhook(rotated.secret).verify(body, headers).type, 'user.created');
  assert.equal(new Webhook(old).verify(body, headers).type, 'user.created');
  assert.throws(() => new Webhook(otherSecret()).verify(body, headers), WebhookVerificationError);
  secret = rotated.secret;
});

test('a test event verifies under the current secret', async () => {
  const { data } = await adminJson('GET', '/v1/admin/webhooks');
  const response = await fetch(`${instance.issuer}/v1/admin/webhooks/${data[0].id}/test`, {
    method: 'POST',
    headers: { authorization: `Bearer ${instance.adminKey}` },
  });
  assert.equal(response.status, 202);
  const { event_id: eventId } = await response.json();
  const { headers, body } = await delivery(3);
  const payload = new Webhook(secret).verify(body, headers);
  assert.equal(payload.type, 'webhook.test');
  assert.equal(payload.id, eventId);
});

async function userJson(method, pathname, token, body) {
  const response = await fetch(instance.issuer + pathname, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${pathname} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

test("an organization's endpoint gets its events, verified under the secret shown at creation", async () => {
  await signup('olga@example.com');
  const { access_token: token } = await userJson('POST', '/v1/auth/login', null, { email: 'olga@example.com', password: PASSWORD });
  const org = await userJson('POST', '/v1/organizations', token, { name: 'Olga Org' });
  const created = await userJson('POST', `/v1/organizations/${org.id}/webhooks`, token, {
    url: url.replace('/hooks', '/org-hooks'),
    events: ['organization.*'],
    description: 'SIEM',
  });
  assert.match(created.secret, /^whsec_/);
  const until = Date.now() + 15_000;
  let got;
  while (!(got = received.find((r) => r.path === '/org-hooks'))) {
    assert.ok(Date.now() < until, 'an organization delivery within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const payload = new Webhook(created.secret).verify(got.body, got.headers);
  assert.equal(payload.type, 'organization.webhook.created');
  assert.equal(payload.data.organization_id, org.id);
  assert.throws(() => new Webhook(secret).verify(got.body, got.headers), WebhookVerificationError);
});
