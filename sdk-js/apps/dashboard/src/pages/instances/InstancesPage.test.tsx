import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Instance } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { InstancesPage } from './InstancesPage';

function instance(environment: 'live' | 'test', state: Instance['state'], extra: Partial<Instance> = {}): Instance {
  return {
    id: `ins_${environment}`,
    account_id: 'acc_1',
    environment,
    region: 'local',
    plan: 'pro',
    state,
    desired: 'running',
    revision: 1,
    current_revision: state === 'ready' ? 1 : null,
    last_healthy_revision: state === 'ready' ? 1 : null,
    allowed_origins: [],
    last_error: null,
    created_at: '2026-11-24T10:00:00Z',
    updated_at: '2026-11-24T10:00:01Z',
    gateway_url: 'http://127.0.0.1:7401',
    steps: [{ at: '2026-11-24T10:00:00Z', step: 'created' }],
    ...extra,
  };
}

describe('<InstancesPage>', () => {
  it('follows provisioning every second until ready, then shows the snippet with a live publishable key', async () => {
    const user = userEvent.setup();
    let polls = 0;
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => {
        polls++;
        if (polls < 3) {
          return {
            data: [
              instance('test', 'provisioning', { steps: [{ at: '2026-11-24T10:00:00Z', step: 'created' }, { at: '2026-11-24T10:00:01Z', step: 'starting', detail: 'port 7600' }] }),
              instance('live', 'provisioning'),
            ],
          };
        }
        return { data: [instance('live', 'ready'), instance('test', 'ready')] };
      })
      .on('POST', '/v1/accounts/acc_1/keys', () =>
        json(201, { id: 'key_1', name: 'Web app', kind: 'publishable', environment: 'live', secret: 'ask_live_abc123', display_prefix: 'ask_live_abc' }),
      );
    renderPage(<InstancesPage />, cp);
    expect(await screen.findByText('Setting up your AuthStack. This page updates every second.')).toBeInTheDocument();
    const test = screen.getByRole('article', { name: 'Test instance in local' });
    expect(within(test).getByText('Setting up')).toBeInTheDocument();
    expect(within(test).getByText(/starting: port 7600/)).toBeInTheDocument();
    const ready = await screen.findByRole('region', { name: 'Your AuthStack is ready' }, { timeout: 8000 });
    expect(polls).toBeGreaterThanOrEqual(3);
    // The snippet follows GET /v1/platform (404 here: no tarballs, so the registry's package).
    await waitFor(() => expect(ready).toHaveTextContent('npm install @authstack/react'));
    await user.click(within(ready).getByRole('button', { name: 'Create a live publishable key for this snippet' }));
    await waitFor(() => expect(ready).toHaveTextContent('apiKey="ask_live_abc123" baseUrl="http://127.0.0.1:7401"'));
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')[0]?.body).toEqual({ name: 'Web app', environment: 'live', kind: 'publishable' });
    const seen = polls;
    await new Promise((r) => setTimeout(r, 1200));
    expect(polls).toBe(seen);
  }, 15_000);

  it('shows revisions and the last error of a failed instance', async () => {
    const cp = new FakeControlPlane().on('GET', '/v1/accounts/acc_1/instances', () => ({
      data: [instance('live', 'failed', { revision: 3, current_revision: 2, last_healthy_revision: 2, last_error: 'revision 3 did not become ready' })],
    }));
    renderPage(<InstancesPage />, cp);
    const live = await screen.findByRole('article', { name: 'Live instance in local' });
    expect(live).toHaveTextContent('wanted 3, running 2, last healthy 2');
    expect(within(live).getByRole('alert')).toHaveTextContent('revision 3 did not become ready');
    expect(screen.queryByText('Your AuthStack is ready')).toBeNull();
  });

  it('has an empty state that leads to the plans', async () => {
    const cp = new FakeControlPlane().on('GET', '/v1/accounts/acc_1/instances', () => ({ data: [] }));
    renderPage(<InstancesPage />, cp);
    expect(await screen.findByRole('heading', { name: 'No instances yet' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Choose a plan' })).toHaveAttribute('href', '/plans');
  });

  it('installs the tarballs the control plane serves, and allows the Vite dev origin on the live instance', async () => {
    const user = userEvent.setup();
    let origins = ['https://app.example.com'];
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => ({
        data: [instance('live', 'ready', { allowed_origins: origins }), instance('test', 'ready')],
      }))
      .on('GET', '/v1/platform', () => ({
        instance_id: 'ins_platform',
        gateway_url: 'http://127.0.0.1:7401',
        publishable_key: 'ask_live_platform',
        sdk: { client: 'http://127.0.0.1:7400/sdk/authstack-client.tgz', react: 'http://127.0.0.1:7400/sdk/authstack-react.tgz' },
      }))
      .on('PUT', '/v1/accounts/acc_1/instances/live/allowed-origins', (call) => {
        origins = (call.body as { allowed_origins: string[] }).allowed_origins;
        return instance('live', 'ready', { allowed_origins: origins });
      });
    renderPage(<InstancesPage />, cp);
    const ready = await screen.findByRole('region', { name: 'Your AuthStack is ready' });
    await waitFor(() =>
      expect(ready).toHaveTextContent(
        'npm install http://127.0.0.1:7400/sdk/authstack-client.tgz http://127.0.0.1:7400/sdk/authstack-react.tgz',
      ),
    );
    expect(within(ready).getByRole('button', { name: 'Copy snippet' })).toBeInTheDocument();
    await user.click(within(ready).getByRole('button', { name: 'Allow http://localhost:5173' }));
    expect(await within(ready).findByText('http://localhost:5173 may now call your live instance.')).toBeInTheDocument();
    expect(cp.callsTo('PUT', '/v1/accounts/acc_1/instances/live/allowed-origins')[0]?.body).toEqual({
      allowed_origins: ['https://app.example.com', 'http://localhost:5173'],
    });
  });

  it('installs @authstack/react when the control plane serves no SDK, and says when the dev origin is allowed already', async () => {
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => ({
        data: [instance('live', 'ready', { allowed_origins: ['http://localhost:5173'] })],
      }))
      .on('GET', '/v1/platform', () => ({ instance_id: 'ins_platform', gateway_url: 'http://127.0.0.1:7401', publishable_key: 'ask_live_platform', sdk: null }));
    renderPage(<InstancesPage />, cp);
    const ready = await screen.findByRole('region', { name: 'Your AuthStack is ready' });
    await waitFor(() => expect(ready).toHaveTextContent('npm install @authstack/react import'));
    expect(ready).not.toHaveTextContent('.tgz');
    expect(within(ready).queryByRole('button', { name: 'Allow http://localhost:5173' })).toBeNull();
    expect(ready).toHaveTextContent('http://localhost:5173 may call your live instance');
  });
  it('keeps the ready panel and its new key while the live instance deploys the allowed dev origin', async () => {
    const user = userEvent.setup();
    let origins: string[] = [];
    // After the PUT the live instance deploys revision 2 (`updating`, revision 1 still serving) for two polls.
    let updatingPolls = 0;
    const live = () =>
      updatingPolls > 0
        ? instance('live', 'updating', { allowed_origins: origins, revision: 2, current_revision: 1, last_healthy_revision: 1 })
        : instance('live', 'ready', { allowed_origins: origins, revision: origins.length ? 2 : 1, current_revision: origins.length ? 2 : 1 });
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => {
        const answer = { data: [live(), instance('test', 'ready')] };
        if (updatingPolls > 0) updatingPolls--;
        return answer;
      })
      .on('POST', '/v1/accounts/acc_1/keys', () =>
        json(201, { id: 'key_1', name: 'Web app', kind: 'publishable', environment: 'live', secret: 'ask_live_abc123', display_prefix: 'ask_live_abc' }),
      )
      .on('PUT', '/v1/accounts/acc_1/instances/live/allowed-origins', (call) => {
        origins = (call.body as { allowed_origins: string[] }).allowed_origins;
        updatingPolls = 3;
        return live();
      });
    renderPage(<InstancesPage />, cp);
    const ready = await screen.findByRole('region', { name: 'Your AuthStack is ready' });
    await user.click(within(ready).getByRole('button', { name: 'Create a live publishable key for this snippet' }));
    await waitFor(() => expect(ready).toHaveTextContent('apiKey="ask_live_abc123"'));
    await user.click(within(ready).getByRole('button', { name: 'Allow http://localhost:5173' }));
    // The live instance updates: the panel, its key and what it said stay.
    const card = screen.getByRole('article', { name: 'Live instance in local' });
    await within(card).findByText('Updating');
    expect(screen.getByText(/^Deploying a change to your AuthStack; it keeps serving meanwhile./)).toHaveAttribute('role', 'status');
    expect(screen.getByRole('region', { name: 'Your AuthStack is ready' })).toBe(ready);
    expect(ready).toHaveTextContent('apiKey="ask_live_abc123"');
    expect(ready).toHaveTextContent('http://localhost:5173 may now call your live instance.');
    // Deployed: still the same panel with the same key, and no second key.
    await within(card).findByText('Ready', {}, { timeout: 5000 });
    expect(card).toHaveTextContent('wanted 2, running 2');
    expect(screen.getByRole('region', { name: 'Your AuthStack is ready' })).toHaveTextContent('apiKey="ask_live_abc123"');
    expect(screen.queryByText('ask_live_…', { exact: false })).toBeNull();
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')).toHaveLength(1);
  }, 15_000);

  it('keeps the created key when the panel goes and comes back', async () => {
    const user = userEvent.setup();
    let state: 'ready' | 'updating' = 'ready';
    let polls = 0;
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => {
        if (state === 'updating' && ++polls > 2) state = 'ready';
        // An update with no revision running yet does not serve: no panel meanwhile.
        return { data: [instance('live', state, state === 'updating' ? { current_revision: null } : {})] };
      })
      .on('POST', '/v1/accounts/acc_1/keys', () =>
        json(201, { id: 'key_1', name: 'Web app', kind: 'publishable', environment: 'live', secret: 'ask_live_abc123', display_prefix: 'ask_live_abc' }),
      )
      .on('PUT', '/v1/accounts/acc_1/instances/live/allowed-origins', () => {
        state = 'updating';
        return instance('live', 'updating', { current_revision: null });
      });
    renderPage(<InstancesPage />, cp);
    const ready = await screen.findByRole('region', { name: 'Your AuthStack is ready' });
    await user.click(within(ready).getByRole('button', { name: 'Create a live publishable key for this snippet' }));
    await waitFor(() => expect(ready).toHaveTextContent('apiKey="ask_live_abc123"'));
    await user.click(within(ready).getByRole('button', { name: 'Allow http://localhost:5173' }));
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Your AuthStack is ready' })).toBeNull());
    expect(screen.getByText('Setting up your AuthStack. This page updates every second.')).toBeInTheDocument();
    const back = await screen.findByRole('region', { name: 'Your AuthStack is ready' }, { timeout: 5000 });
    await waitFor(() => expect(back).toHaveTextContent('apiKey="ask_live_abc123"'));
    expect(within(back).queryByRole('button', { name: 'Create a live publishable key for this snippet' })).toBeNull();
  }, 15_000);

  it("offers each instance's custom domain where its plan includes them", async () => {
    const limits = (customDomain: boolean) => ({ custom_domain: customDomain, sso: false, regions: ['local'] });
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/instances', () => ({ data: [instance('live', 'ready'), instance('test', 'ready', { plan: 'starter' })] }))
      .on('GET', '/v1/plans', () => ({
        data: [
          { id: 'pro', name: 'Pro', limits: limits(true) },
          { id: 'starter', name: 'Starter', limits: limits(false) },
        ],
      }))
      .on('GET', '/v1/accounts/acc_1/instances/live/domain', () => json(404, { error: 'not_found', message: 'domain not found' }));
    renderPage(<InstancesPage />, cp);
    const live = await screen.findByRole('article', { name: 'Live instance in local' });
    const liveDomain = await within(live).findByRole('region', { name: 'Custom domain' });
    expect(within(liveDomain).getByRole('button', { name: 'Set domain' })).toBeInTheDocument();
    const test = screen.getByRole('article', { name: 'Test instance in local' });
    const testDomain = await within(test).findByRole('region', { name: 'Custom domain' });
    expect(testDomain).toHaveTextContent('Custom domains are not part of the Starter plan.');
    expect(within(testDomain).queryByRole('button')).toBeNull();
  });
});
