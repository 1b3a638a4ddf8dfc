import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { WebhookDelivery, WebhookEndpoint } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { WebhooksPage } from './WebhooksPage';

const BASE = '/v1/accounts/acc_1/instances/live/webhooks';
const ACCOUNT_BASE = '/v1/accounts/acc_1/webhooks';
const ID = 'whe_0123456789abcdef01234567';
const URL_ = 'https://api.example.com/hooks';
const EVENT = 'evt_0123456789abcdef0123456789abcdef';
const REASON = 'every delivery attempt failed for 25 hours (10 attempts in a row); the last: HTTP 500';

function endpoint(extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id: ID,
    url: URL_,
    events: ['user.*'],
    description: 'CRM sync',
    secret_prefix: 'whsec_AbCd',
    disabled_at: null,
    disabled_reason: null,
    last_delivery_status: null,
    last_delivery: null,
    ...extra,
  };
}

function delivery(extra: Partial<WebhookDelivery> = {}): WebhookDelivery {
  return {
    id: 'whd_1',
    event_id: EVENT,
    endpoint_id: ID,
    event_type: 'user.created',
    status: 'failed',
    attempts: 3,
    created_at: '2026-12-01T10:00:00Z',
    last_attempt_at: '2026-12-01T10:05:00Z',
    next_attempt_at: null,
    last_status: 500,
    last_error: null,
    latency_ms: 42,
    response_excerpt: 'upstream broke',
    payload: {},
    ...extra,
  };
}

function webhooksApi(first: WebhookEndpoint = endpoint()) {
  let current = first;
  const cp = new FakeControlPlane()
    .on('GET', ACCOUNT_BASE, () => ({ data: [] }))
    .on('GET', BASE, () => ({ data: [current] }))
    .on('GET', `${BASE}/${ID}/deliveries`, () => ({ data: [delivery()] }))
    .on('POST', `${BASE}/${ID}/rotate-secret`, () => ({
      id: ID,
      secret: 'whsec_shown_once_42',
      previous_secret_expires_at: '2026-12-04T10:00:00Z',
    }))
    .on('POST', `${BASE}/${ID}/test`, () => json(202, { event_id: 'evt_test' }))
    .on('POST', `${BASE}/${ID}/enable`, () => {
      current = { ...current, disabled_at: null, disabled_reason: null };
      return current;
    })
    .on('POST', `${BASE}/deliveries/${EVENT}/replay`, () => json(202, { event_id: EVENT, queued: 1 }));
  return cp;
}

describe('<WebhooksPage>', () => {
  it('lists endpoints with status, events and secret prefix, and links to the configuration', async () => {
    renderPage(<WebhooksPage canManage />, webhooksApi());
    const row = await screen.findByRole('row', { name: new RegExp(URL_) });
    expect(row).toHaveTextContent('Enabled');
    expect(row).toHaveTextContent('user.*');
    expect(row).toHaveTextContent('whsec_AbCd…');
    expect(screen.getAllByRole('link', { name: 'create a revision' })[0]).toHaveAttribute('href', '/revisions');
    // An instance's endpoints come from its configuration: the only control that adds one is the
    // account events' own.
    const accountEvents = screen.getByRole('region', { name: 'Account events' });
    expect(screen.getAllByRole('button', { name: /add/i }).every((b) => accountEvents.contains(b))).toBe(true);
  });

  it('rotates a secret and shows it once, with a copy button', async () => {
    const user = userEvent.setup();
    const cp = webhooksApi();
    renderPage(<WebhooksPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: `Rotate secret of ${URL_}` }));
    await user.click(screen.getByRole('button', { name: 'Rotate secret' }));
    const reveal = await screen.findByRole('region', { name: 'Copy the signing secret now' });
    expect(within(reveal).getByLabelText('Signing secret')).toHaveTextContent('whsec_shown_once_42');
    expect(reveal).toHaveTextContent("You won't see this secret again");
    await user.click(within(reveal).getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe('whsec_shown_once_42');
    await user.click(within(reveal).getByRole('button', { name: 'I have stored it' }));
    expect(document.body.textContent).not.toContain('whsec_shown_once_42');
    expect(cp.callsTo('POST', `${BASE}/${ID}/rotate-secret`)).toHaveLength(1);
  });

  it('sends a test event', async () => {
    const user = userEvent.setup();
    const cp = webhooksApi();
    renderPage(<WebhooksPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: `Send a test event to ${URL_}` }));
    expect(await screen.findByRole('status')).toHaveTextContent('A webhook.test event (evt_test) is queued');
    expect(cp.callsTo('POST', `${BASE}/${ID}/test`)).toHaveLength(1);
  });

  it('shows why an endpoint was disabled and enables it', async () => {
    const user = userEvent.setup();
    const cp = webhooksApi(endpoint({ disabled_at: '2026-12-02T10:00:00Z', disabled_reason: REASON }));
    renderPage(<WebhooksPage canManage />, cp);
    const row = await screen.findByRole('row', { name: new RegExp(URL_) });
    expect(row).toHaveTextContent('Disabled');
    expect(row).toHaveTextContent(REASON);
    await user.click(within(row).getByRole('button', { name: `Enable ${URL_}` }));
    expect(await screen.findByRole('status')).toHaveTextContent('is enabled');
    await waitFor(() => expect(screen.getByRole('row', { name: new RegExp(URL_) })).toHaveTextContent('Enabled'));
    expect(screen.queryByRole('button', { name: `Enable ${URL_}` })).toBeNull();
  });

  it('shows the delivery log with status, latency and the answer, and replays an event', async () => {
    const user = userEvent.setup();
    const cp = webhooksApi();
    renderPage(<WebhooksPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: `Deliveries of ${URL_}` }));
    const log = await screen.findByRole('region', { name: `Deliveries to ${URL_}` });
    const row = await within(log).findByRole('row', { name: /user.created/ });
    expect(row).toHaveTextContent('failed');
    expect(row).toHaveTextContent('HTTP 500');
    expect(row).toHaveTextContent('42 ms');
    expect(row).toHaveTextContent('upstream broke');
    await user.click(within(row).getByRole('button', { name: `Replay ${EVENT}` }));
    expect(await screen.findByRole('status')).toHaveTextContent('queued again for 1 endpoint.');
    expect(cp.callsTo('POST', `${BASE}/deliveries/${EVENT}/replay`)).toHaveLength(1);
  });

  it('without keys:manage shows endpoints and deliveries but no actions', async () => {
    renderPage(<WebhooksPage canManage={false} />, webhooksApi());
    await screen.findByRole('row', { name: new RegExp(URL_) });
    expect(screen.getByRole('button', { name: `Deliveries of ${URL_}` })).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Rotate secret|Send a test event|Enable/ })).toBeNull();
  });

  it('without keys:read explains the permission', () => {
    renderPage(<WebhooksPage canRead={false} canManage={false} />, webhooksApi());
    expect(screen.getByRole('note')).toHaveTextContent('keys:read');
  });

  it('says when the configuration lists no endpoint', async () => {
    const cp = new FakeControlPlane().on('GET', BASE, () => ({ data: [] })).on('GET', ACCOUNT_BASE, () => ({ data: [] }));
    renderPage(<WebhooksPage canManage />, cp);
    expect(await screen.findByText('No webhook endpoints')).toBeInTheDocument();
  });
});
