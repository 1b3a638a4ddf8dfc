import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { AccountWebhook, WebhookDelivery } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { AccountEvents } from './AccountEvents';

const BASE = '/v1/accounts/acc_1/webhooks';
const ID = 'whe_0190aaaabbbbccccddddeeeeffff0000';
const URL_ = 'https://ops.example.com/authstack';
const EVENT = 'evt_0190aaaabbbbccccddddeeeeffff1111';

function endpoint(extra: Partial<AccountWebhook> = {}): AccountWebhook {
  return {
    id: ID,
    url: URL_,
    events: ['revision.*'],
    description: 'Deploys',
    secret_prefix: 'whsec_WxYz',
    created_at: '2026-12-01T10:00:00Z',
    disabled_at: null,
    disabled_reason: null,
    last_delivery: null,
    ...extra,
  };
}

function delivery(): WebhookDelivery {
  return {
    id: 'whd_1',
    event_id: EVENT,
    endpoint_id: ID,
    event_type: 'revision.deployed',
    status: 'delivered',
    attempts: 1,
    created_at: '2026-12-01T10:00:00Z',
    last_attempt_at: '2026-12-01T10:00:01Z',
    next_attempt_at: null,
    last_status: 200,
    last_error: null,
    latency_ms: 17,
    response_excerpt: 'ok',
    payload: {},
  };
}

function accountApi(initial: AccountWebhook[] = []) {
  let current = initial;
  return new FakeControlPlane()
    .on('GET', BASE, () => ({ data: current }))
    .on('POST', BASE, (call) => {
      const body = call.body as { url: string; events: string[] };
      current = [endpoint({ url: body.url, events: body.events })];
      return json(201, { webhook: current[0], secret: 'whsec_added_once_7' });
    })
    .on('DELETE', `${BASE}/${ID}`, () => {
      current = [];
      return new Response(null, { status: 204 });
    })
    .on('GET', `${BASE}/${ID}/deliveries`, () => ({ data: [delivery()] }))
    .on('POST', `${BASE}/${ID}/rotate-secret`, () => ({ id: ID, secret: 'whsec_rotated_9', previous_secret_expires_at: '2026-12-04T10:00:00Z' }))
    .on('POST', `${BASE}/${ID}/test`, () => json(202, { event_id: 'evt_test' }))
    .on('POST', `${BASE}/deliveries/${EVENT}/replay`, () => json(202, { event_id: EVENT, queued: 1 }));
}

describe('<AccountEvents>', () => {
  it('adds an endpoint and shows its secret once', async () => {
    const user = userEvent.setup();
    const cp = accountApi();
    renderPage(<AccountEvents canManage />, cp);
    expect(await screen.findByText("No endpoint receives this account's events yet.")).toBeInTheDocument();
    await user.type(screen.getByLabelText('Endpoint URL'), URL_);
    await user.clear(screen.getByLabelText('Events'));
    await user.type(screen.getByLabelText('Events'), 'revision.*, instance.ready');
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    const reveal = await screen.findByRole('region', { name: 'Copy the signing secret now' });
    expect(within(reveal).getByLabelText('Signing secret')).toHaveTextContent('whsec_added_once_7');
    expect(cp.callsTo('POST', BASE)[0]?.body).toEqual({ url: URL_, events: ['revision.*', 'instance.ready'], description: null });
    expect(await screen.findByRole('row', { name: new RegExp(URL_) })).toHaveTextContent('whsec_WxYz…');
    await user.click(within(reveal).getByRole('button', { name: 'I have stored it' }));
    expect(document.body.textContent).not.toContain('whsec_added_once_7');
  });

  it('says why the control plane refused an address', async () => {
    const user = userEvent.setup();
    const cp = accountApi().on('POST', BASE, () =>
      json(400, { error: 'invalid_request', message: 'url: refused: 127.0.0.1 is not a public address; webhooks go to public addresses only' }),
    );
    renderPage(<AccountEvents canManage />, cp);
    await user.type(await screen.findByLabelText('Endpoint URL'), 'http://127.0.0.1:9/h');
    await user.click(screen.getByRole('button', { name: 'Add endpoint' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('not a public address');
  });

  it('sends a test event, rotates the secret and removes the endpoint', async () => {
    const user = userEvent.setup();
    const cp = accountApi([endpoint()]);
    renderPage(<AccountEvents canManage />, cp);
    await user.click(await screen.findByRole('button', { name: `Send a test event to ${URL_}` }));
    expect(await screen.findByRole('status')).toHaveTextContent('A webhook.test event (evt_test) is queued');
    await user.click(screen.getByRole('button', { name: `Rotate secret of ${URL_}` }));
    await user.click(screen.getByRole('button', { name: 'Rotate secret' }));
    const reveal = await screen.findByRole('region', { name: 'Copy the signing secret now' });
    expect(reveal).toHaveTextContent('whsec_rotated_9');
    expect(reveal).toHaveTextContent('The previous secret signs too until');
    await user.click(screen.getByRole('button', { name: `Remove ${URL_}` }));
    await user.click(screen.getByRole('button', { name: 'Remove endpoint' }));
    await waitFor(() => expect(screen.queryByRole('row', { name: new RegExp(URL_) })).toBeNull());
    expect(cp.callsTo('DELETE', `${BASE}/${ID}`)).toHaveLength(1);
  });

  it('shows the delivery log and replays an event', async () => {
    const user = userEvent.setup();
    const cp = accountApi([endpoint()]);
    renderPage(<AccountEvents canManage />, cp);
    await user.click(await screen.findByRole('button', { name: `Deliveries of ${URL_}` }));
    const log = await screen.findByRole('region', { name: `Deliveries to ${URL_}` });
    const row = await within(log).findByRole('row', { name: /revision.deployed/ });
    expect(row).toHaveTextContent('HTTP 200');
    expect(row).toHaveTextContent('17 ms');
    await user.click(within(row).getByRole('button', { name: `Replay ${EVENT}` }));
    expect(await screen.findByRole('status')).toHaveTextContent('queued again for 1 endpoint.');
    expect(cp.callsTo('POST', `${BASE}/deliveries/${EVENT}/replay`)).toHaveLength(1);
  });

  it('without keys:manage lists endpoints but offers no action', async () => {
    renderPage(<AccountEvents canManage={false} />, accountApi([endpoint()]));
    await screen.findByRole('row', { name: new RegExp(URL_) });
    expect(screen.queryByRole('button', { name: /Add endpoint|Rotate secret|Send a test event|Remove/ })).toBeNull();
  });
});
