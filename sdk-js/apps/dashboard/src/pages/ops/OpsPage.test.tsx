import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OpsInstance } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { OPS_POLL_MS, OpsPage } from './OpsPage';

function instance(id: string, extra: Partial<OpsInstance> = {}): OpsInstance {
  return {
    id,
    account_id: 'acc_1',
    environment: 'live',
    region: 'eu-central-1',
    plan: 'pro',
    state: 'ready',
    desired: 'running',
    revision: 3,
    current_revision: 3,
    last_healthy_revision: 3,
    allowed_origins: [],
    last_error: null,
    created_at: '2026-11-24T10:00:00Z',
    updated_at: '2026-11-24T10:00:01Z',
    endpoint: `http://${id}.eu-central-1.svc:7300`,
    ...extra,
  };
}

function fleet() {
  return [
    instance('ins_platform', { account_id: null, region: 'local', plan: 'platform', endpoint: 'http://127.0.0.1:7300' }),
    instance('ins_acme_live'),
    instance('ins_beta_test', {
      account_id: 'acc_2',
      environment: 'test',
      region: 'us-east-1',
      state: 'failed',
      revision: 4,
      last_error: 'revision 4 did not become ready',
    }),
  ];
}

afterEach(() => {
  vi.useRealTimers();
});

describe('<OpsPage>', () => {
  it('lists every instance across regions, filters and searches, and reconciles one', async () => {
    const user = userEvent.setup();
    let data = fleet();
    const cp = new FakeControlPlane()
      .on('GET', '/v1/ops/instances', () => ({ data }))
      .on('POST', '/v1/ops/instances/ins_beta_test/reconcile', () => {
        data = data.map((i) => (i.id === 'ins_beta_test' ? { ...i, state: 'ready', last_error: null } : i));
        return json(202, data[2]);
      });
    renderPage(<OpsPage operator />, cp);
    const failed = await screen.findByRole('row', { name: /ins_beta_test/ });
    expect(failed).toHaveTextContent('acc_2');
    expect(failed).toHaveTextContent('us-east-1');
    expect(failed).toHaveTextContent('Failed');
    expect(failed).toHaveTextContent('running 3, last healthy 3, wanted 4');
    expect(failed).toHaveTextContent('revision 4 did not become ready');
    expect(screen.getByRole('row', { name: /ins_platform/ })).toHaveTextContent('Platform');
    expect(screen.getByRole('row', { name: /ins_acme_live/ })).toHaveTextContent('http://ins_acme_live.eu-central-1.svc:7300');
    expect(screen.getByText('3 instances.')).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Region'), 'eu-central-1');
    expect(screen.getAllByRole('row')).toHaveLength(2);
    expect(screen.getByText('Showing 1 of 3 instances.')).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText('Region'), '');
    await user.selectOptions(screen.getByLabelText('State'), 'failed');
    expect(screen.getAllByRole('row')).toHaveLength(2);
    await user.selectOptions(screen.getByLabelText('State'), '');
    await user.type(screen.getByLabelText('Search'), 'platform');
    expect(screen.getAllByRole('row')).toHaveLength(2);
    expect(screen.getByRole('row', { name: /ins_platform/ })).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Search'));
    await user.type(screen.getByLabelText('Search'), 'nothing like it');
    expect(screen.getByRole('heading', { name: 'No instance matches' })).toBeInTheDocument();
    await user.clear(screen.getByLabelText('Search'));

    await user.click(screen.getByRole('button', { name: 'Reconcile ins_beta_test' }));
    expect(await screen.findByText('Reconcile requested for ins_beta_test. The control plane acts on it now.')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByRole('row', { name: /ins_beta_test/ })).toHaveTextContent('Ready'));
    expect(cp.callsTo('GET', '/v1/ops/instances')).toHaveLength(2);
    expect(cp.callsTo('POST', /reconcile$/)[0]?.headers['authorization']).toBe('Bearer token-1');
  });

  it('refreshes every 5 seconds while an instance is being set up or updated, then stops', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let polls = 0;
    const cp = new FakeControlPlane().on('GET', '/v1/ops/instances', () => {
      polls++;
      return { data: polls < 3 ? [instance('ins_new', { state: 'provisioning', current_revision: null })] : [instance('ins_new')] };
    });
    renderPage(<OpsPage operator />, cp);
    expect(await screen.findByText(/this list refreshes every 5 seconds/)).toBeInTheDocument();
    expect(screen.getByRole('row', { name: /ins_new/ })).toHaveTextContent('Setting up');
    await act(() => vi.advanceTimersByTimeAsync(OPS_POLL_MS));
    await waitFor(() => expect(polls).toBe(2));
    await act(() => vi.advanceTimersByTimeAsync(OPS_POLL_MS));
    await waitFor(() => expect(screen.getByRole('row', { name: /ins_new/ })).toHaveTextContent('Ready'));
    expect(screen.queryByText(/refreshes every 5 seconds/)).toBeNull();
    await act(() => vi.advanceTimersByTimeAsync(OPS_POLL_MS * 3));
    expect(polls).toBe(3);
  });

  it('tells non-operators plainly, without asking for the list', async () => {
    const cp = new FakeControlPlane().on('GET', '/v1/ops/instances', () => ({ data: fleet() }));
    renderPage(<OpsPage operator={false} />, cp);
    expect(screen.getByRole('heading', { name: 'Only platform operators can see this page' })).toBeInTheDocument();
    expect(cp.calls).toHaveLength(0);
  });

  it('tells non-operators plainly when the control plane refuses the list', async () => {
    const cp = new FakeControlPlane().on('GET', '/v1/ops/instances', () =>
      json(403, { error: 'forbidden', message: 'only platform operators may do this' }),
    );
    renderPage(<OpsPage operator={null} />, cp);
    expect(await screen.findByRole('heading', { name: 'Only platform operators can see this page' })).toBeInTheDocument();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('explains a failed reconcile in plain words', async () => {
    const user = userEvent.setup();
    const cp = new FakeControlPlane()
      .on('GET', '/v1/ops/instances', () => ({ data: fleet() }))
      .on('POST', /reconcile$/, () => json(404, { error: 'not_found', message: 'instance not found' }));
    renderPage(<OpsPage operator />, cp);
    await user.click(await screen.findByRole('button', { name: 'Reconcile ins_acme_live' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('This was not found');
    expect(within(screen.getByRole('table')).getAllByRole('row')).toHaveLength(4);
  });
});
