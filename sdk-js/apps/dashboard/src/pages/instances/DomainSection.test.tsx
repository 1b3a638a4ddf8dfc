import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { CustomDomain, Instance, Plan } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { DomainSection } from './DomainSection';

const DOMAIN_PATH = '/v1/accounts/acc_1/instances/live/domain';

function instance(plan: string): Instance {
  return {
    id: 'ins_live',
    account_id: 'acc_1',
    environment: 'live',
    region: 'local',
    plan,
    state: 'ready',
    desired: 'running',
    revision: 1,
    current_revision: 1,
    last_healthy_revision: 1,
    allowed_origins: [],
    last_error: null,
    created_at: '2026-11-24T10:00:00Z',
    updated_at: '2026-11-24T10:00:01Z',
  };
}

function plan(id: string, name: string, customDomain: boolean): Plan {
  return {
    id,
    name,
    limits: {
      monthly_active_users: 10000,
      organizations: 100,
      members_per_organization: 25,
      custom_roles_per_organization: 3,
      regions: ['local'],
      audit_retention_days: 7,
      version_history_days: 30,
      sso: false,
      custom_domain: customDomain,
      customization_prompts_per_month: 20,
      api_requests_per_second: 100,
    },
  } as Plan;
}

const PLANS = { data: [plan('starter', 'Starter', false), plan('pro', 'Pro', true)] };

function domain(status: CustomDomain['status']): CustomDomain {
  return {
    domain: 'auth.customer.com',
    status,
    issuer: 'https://auth.customer.com',
    verification: { type: 'TXT', name: '_authstack-challenge.auth.customer.com', value: 'asd_token123' },
    ...(status === 'verified' ? { verified_at: '2026-12-03T07:00:00Z' } : {}),
  };
}

describe('<DomainSection>', () => {
  it('sets a domain, shows the TXT record, shows why verification failed, then verifies', async () => {
    const user = userEvent.setup();
    let current: CustomDomain | null = null;
    let verifyAttempts = 0;
    const cp = new FakeControlPlane()
      .on('GET', '/v1/plans', () => PLANS)
      .on('GET', DOMAIN_PATH, () => current ?? json(404, { error: 'not_found', message: 'domain not found' }))
      .on('PUT', DOMAIN_PATH, () => (current = domain('pending')))
      .on('POST', `${DOMAIN_PATH}/verify`, () => {
        verifyAttempts++;
        if (verifyAttempts === 1) {
          return json(409, {
            error: 'domain_not_verified',
            message:
              'the domain auth.customer.com is not verified: create the TXT record _authstack-challenge.auth.customer.com with the value asd_token123 (no TXT record was found), then retry',
          });
        }
        return (current = domain('verified'));
      });
    renderPage(<DomainSection instance={instance('pro')} />, cp);
    const section = await screen.findByRole('region', { name: 'Custom domain' });
    await user.type(within(section).getByLabelText('Domain'), ' auth.customer.com ');
    await user.click(within(section).getByRole('button', { name: 'Set domain' }));
    expect(cp.callsTo('PUT', DOMAIN_PATH)[0]?.body).toEqual({ domain: 'auth.customer.com' });
    expect(await within(section).findByText('_authstack-challenge.auth.customer.com')).toBeInTheDocument();
    expect(within(section).getByText('asd_token123')).toBeInTheDocument();
    expect(within(section).getByText('Waiting for verification')).toBeInTheDocument();

    await user.click(within(section).getByRole('button', { name: 'Verify' }));
    expect(await within(section).findByRole('alert')).toHaveTextContent(
      'create the TXT record _authstack-challenge.auth.customer.com with the value asd_token123',
    );
    await user.click(within(section).getByRole('button', { name: 'Verify' }));
    expect(await within(section).findByText('auth.customer.com is verified.')).toBeInTheDocument();
    expect(within(section).getByText('Verified')).toBeInTheDocument();
    expect(within(section).getByText('https://auth.customer.com')).toBeInTheDocument();
    expect(within(section).queryByRole('alert')).toBeNull();
  });

  it('shows a refused domain and removes a verified one', async () => {
    const user = userEvent.setup();
    let current: CustomDomain | null = domain('verified');
    const cp = new FakeControlPlane()
      .on('GET', '/v1/plans', () => PLANS)
      .on('GET', DOMAIN_PATH, () => current ?? json(404, { error: 'not_found', message: 'domain not found' }))
      .on('DELETE', DOMAIN_PATH, () => {
        current = null;
        return json(204, undefined);
      })
      .on('PUT', DOMAIN_PATH, () =>
        json(409, { error: 'domain_taken', message: 'the domain auth.other.com is already used by another instance' }),
      );
    renderPage(<DomainSection instance={instance('pro')} />, cp);
    const section = await screen.findByRole('region', { name: 'Custom domain' });
    expect(await within(section).findByText('Verified')).toBeInTheDocument();
    await user.click(within(section).getByRole('button', { name: 'Remove domain' }));
    await waitFor(() => expect(cp.callsTo('DELETE', DOMAIN_PATH)).toHaveLength(1));
    await user.type(await within(section).findByLabelText('Domain'), 'auth.other.com');
    await user.click(within(section).getByRole('button', { name: 'Set domain' }));
    expect(await within(section).findByRole('alert')).toHaveTextContent('The domain auth.other.com is already used by another instance.');
  });

  it("says the plan lacks custom domains instead of offering them", async () => {
    const cp = new FakeControlPlane().on('GET', '/v1/plans', () => PLANS);
    renderPage(<DomainSection instance={instance('starter')} />, cp);
    const section = await screen.findByRole('region', { name: 'Custom domain' });
    expect(section).toHaveTextContent('Custom domains are not part of the Starter plan.');
    expect(within(section).getByRole('link', { name: 'Upgrade to Pro or Enterprise' })).toHaveAttribute('href', '/plans');
    expect(within(section).queryByLabelText('Domain')).toBeNull();
    expect(within(section).queryByRole('button')).toBeNull();
    expect(cp.callsTo('GET', DOMAIN_PATH)).toHaveLength(0);
  });
});
