import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { PlansPage } from './PlansPage';

const limits = {
  monthly_active_users: 10000,
  organizations: 100,
  members_per_organization: 25,
  custom_roles_per_organization: 3,
  regions: ['local', 'eu-central-1'],
  audit_retention_days: 7,
  version_history_days: 30,
  sso: false,
  custom_domain: false,
  customization_prompts_per_month: 20,
  api_requests_per_second: 100,
};

function catalog(subscription: unknown = null) {
  return new FakeControlPlane()
    .on('GET', '/v1/plans', () => ({
      data: [
        { id: 'starter', name: 'Starter', stripe_price_id: 'p1', limits },
        { id: 'pro', name: 'Pro', stripe_price_id: 'p2', limits: { ...limits, monthly_active_users: null, sso: true, regions: ['*'] } },
      ],
    }))
    .on('GET', '/v1/regions', () => ({
      data: [
        { id: 'local', name: 'This machine', provisioner: 'local', available: true },
        { id: 'us-east-1', name: 'US East (Virginia)', provisioner: 'kubernetes', available: true },
        { id: 'eu-central-1', name: 'Europe (Frankfurt)', provisioner: 'kubernetes', available: false },
      ],
    }))
    .on('GET', '/v1/accounts/acc_1', () => ({ id: 'acc_1', organization_id: 'org_1', name: 'Acme', subscription, instances: [] }));
}

describe('<PlansPage>', () => {
  it('shows the limits side by side and subscribes with the chosen region (billing none)', async () => {
    const user = userEvent.setup();
    const cp = catalog().on('POST', '/v1/accounts/acc_1/subscription', () => ({ subscription: { plan: 'pro' }, instances: [] }));
    renderPage(<PlansPage />, cp);
    const table = await screen.findByRole('table');
    const row = within(table).getByRole('row', { name: /Monthly active users/ });
    expect(row).toHaveTextContent('10,000');
    expect(row).toHaveTextContent('Unlimited');
    expect(within(table).getByRole('row', { name: /SAML/ })).toHaveTextContent('Included');
    expect(screen.getByRole('option', { name: 'Europe (Frankfurt) (unavailable)' })).toBeDisabled();

    await user.selectOptions(screen.getByLabelText('Region'), 'us-east-1');
    expect(screen.getByRole('button', { name: 'Choose Starter' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Choose Pro' }));
    await waitFor(() => expect(window.location.pathname).toBe('/instances'));
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/subscription')[0]?.body).toEqual({ plan: 'pro', region: 'us-east-1' });
  });

  it('does not call a plan feature included while the product does not deliver it yet', async () => {
    const cp = catalog().on('GET', '/v1/capabilities', () => ({
      settings: [],
      plan_features: [
        { key: 'sso', label: 'SAML single sign-on', active: false },
        { key: 'custom_domain', label: 'Custom domains', active: false },
      ],
    }));
    const plans = (await cp.fetch('/v1/plans')).json() as Promise<{ data: { limits: Record<string, unknown> }[] }>;
    const pro = (await plans).data[1]!;
    cp.on('GET', '/v1/plans', () => ({
      data: [
        { id: 'starter', name: 'Starter', stripe_price_id: 'p1', limits },
        { id: 'pro', name: 'Pro', stripe_price_id: 'p2', limits: { ...pro.limits, custom_domain: true } },
      ],
    }));
    renderPage(<PlansPage />, cp);
    const table = await screen.findByRole('table');
    const sso = within(table).getByRole('row', { name: /SAML/ });
    expect(within(sso).getAllByRole('cell').map((c) => c.textContent)).toEqual(['—', 'Included — not available yet']);
    const domain = within(table).getByRole('row', { name: /Custom domain/ });
    expect(within(domain).getAllByRole('cell').map((c) => c.textContent)).toEqual(['—', 'Included — not available yet']);
    expect(table.textContent).not.toMatch(/Included(?! — not available yet)/);
  });

  it('redirects to Stripe Checkout when the answer has a checkout URL', async () => {
    const user = userEvent.setup();
    const assign = vi.fn();
    const original = window.location;
    Object.defineProperty(window, 'location', { configurable: true, value: { ...original, assign, pathname: '/plans', search: '' } });
    try {
      const cp = catalog().on('POST', '/v1/accounts/acc_1/subscription', () => ({
        subscription: null,
        checkout_url: 'https://checkout.stripe.test/c/1',
        instances: [],
      }));
      renderPage(<PlansPage />, cp);
      await user.click(await screen.findByRole('button', { name: 'Choose Starter' }));
      await waitFor(() => expect(assign).toHaveBeenCalledWith('https://checkout.stripe.test/c/1'));
    } finally {
      Object.defineProperty(window, 'location', { configurable: true, value: original });
    }
  });

  it('marks the current plan and explains refusals in plain words', async () => {
    const user = userEvent.setup();
    const cp = catalog({ plan: 'starter', region: 'local', status: 'active', provider: 'none' }).on(
      'POST',
      '/v1/accounts/acc_1/subscription',
      () => json(403, { error: 'forbidden', message: "this action needs the permission 'billing:manage' in the account" }),
    );
    renderPage(<PlansPage />, cp);
    expect(await screen.findByRole('button', { name: 'Your plan' })).toBeDisabled();
    await user.click(screen.getByRole('button', { name: 'Choose Pro' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Your role in this account does not allow this');
  });

  it('offers a retry when the catalog cannot load', async () => {
    const cp = catalog().on('GET', '/v1/plans', () => json(503, { error: 'unavailable', message: '' }));
    renderPage(<PlansPage />, cp);
    expect(await screen.findByRole('alert')).toHaveTextContent('The service is unavailable right now');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
