// The control plane's own events verified by the npm `standardwebhooks` package, not by our own
// HMAC: against a real `authstack dev`, the demo account registers an endpoint on loopback (dev
// allows it; a production control plane refuses loopback), gets its secret once, and the
// library accepts a `webhook.test` and the `revision.deployed` of a deploy on the test instance
// under that secret, and refuses them under another.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { platformSession, startAuthstack, stopAuthstack, until } from './stack.mjs';

const received = [];
const receiver = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    received.push({ headers: req.headers, body });
    res.writeHead(204).end();
  });
});

let stack;
let session;
let hooks;
let secret;

before(async () => {
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  stack = await startAuthstack();
  const { info } = stack;
  session = await platformSession(info, info.demo.owner_email, info.demo.owner_password, { accountId: info.demo.account_id });
  hooks = `/v1/accounts/${info.demo.account_id}/webhooks`;
});

after(async () => {
  if (stack) await stopAuthstack(stack);
  receiver.close();
});

async function delivery(type) {
  let found;
  await until(`a ${type} delivery`, 20_000, () => {
    found = received.find((r) => JSON.parse(r.body).type === type);
    return found !== undefined;
  });
  return found;
}

test('the secret shown once verifies a webhook.test with standardwebhooks', async () => {
  const url = `http://127.0.0.1:${receiver.address().port}/events`;
  const created = await session.call(hooks, { method: 'POST', body: { url, events: ['revision.*'] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  ({ secret } = created.body);
  assert.match(secret, /^whsec_/);
  const listed = await session.call(hooks);
  assert.ok(!JSON.stringify(listed.body).includes(secret), 'the list never shows the secret');

  const queued = await session.call(`${hooks}/${created.body.webhook.id}/test`, { method: 'POST' });
  assert.equal(queued.status, 202, JSON.stringify(queued.body));
  const { headers, body } = await delivery('webhook.test');
  const payload = new Webhook(secret).verify(body, headers);
  assert.equal(payload.id, queued.body.event_id);
  assert.equal(payload.account_id, stack.info.demo.account_id);
  assert.throws(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString('base64')}`).verify(body, headers), WebhookVerificationError);
  assert.throws(() => new Webhook(secret).verify(body.replace('webhook.test', 'webhook.fake'), headers), WebhookVerificationError);
});

test('a deploy on the test instance sends revision.deployed, verified', async () => {
  const base = `/v1/accounts/${stack.info.demo.account_id}/instances/test`;
  const patch = [{ op: 'replace', path: '/passwords/min_length', value: 13 }];
  const created = await session.call(`${base}/revisions`, { method: 'POST', body: { patch, summary: 'e2e: longer passwords' } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const number = created.body.revision.number;
  const deployed = await session.call(`${base}/revisions/${number}/deploy?wait=true`, { method: 'POST' });
  assert.equal(deployed.status, 200, JSON.stringify(deployed.body));
  const { headers, body } = await delivery('revision.deployed');
  const payload = new Webhook(secret).verify(body, headers);
  assert.equal(payload.version, 1);
  assert.equal(payload.data.environment, 'test');
  assert.equal(payload.data.revision, number);
});
