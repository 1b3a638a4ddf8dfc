import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Usage } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { UsagePage } from './UsagePage';

const BASE = '/v1/accounts/acc_1/instances';

function days(): Usage['daily_active_users'] {
  const start = Date.UTC(2026, 9, 26);
  return Array.from({ length: 30 }, (_, i) => ({
    date: new Date(start + i * 86_400_000).toISOString().slice(0, 10),
    users: i === 25 ? 40 : i % 7,
  }));
}

function usage(extra: Partial<Usage> = {}): Usage {
  return {
    instance_id: 'ins_live',
    environment: 'live',
    plan: 'pro',
    measured_at: '2026-11-24T17:00:00Z',
    users: 130,
    monthly_active_users: { used: 12, limit: 10000 },
    organizations: { used: 85, limit: 100 },
    members_per_organization: {
      limit: 50,
      data: [
        { organization_id: 'org_big', name: 'Big Corp', members: 48, pending_invitations: 2 },
        { organization_id: 'org_acme', name: 'Acme', members: 4, pending_invitations: 1 },
      ],
    },
    daily_active_users: days(),
    ...extra,
  };
}

describe('<UsagePage>', () => {
  it('says "1 user" and "1 member", not "1 users"', async () => {
    const cp = new FakeControlPlane().on('GET', `${BASE}/live/usage`, () =>
      usage({ users: 1, members_per_organization: { limit: 1, data: [] } }),
    );
    renderPage(<UsagePage />, cp);
    expect(await screen.findByText(/1 user in all/)).toBeInTheDocument();
    expect(screen.getByText(/Each organization may have 1 member, pending/)).toBeInTheDocument();
    expect(document.body.textContent).not.toMatch(/\b1 (users|members)\b/);
  });

  it('shows meters against the limits, warning from 80 %, the members table and the daily chart with its numbers', async () => {
    const cp = new FakeControlPlane().on('GET', `${BASE}/live/usage`, () => usage());
    renderPage(<UsagePage />, cp);
    const mau = await screen.findByRole('meter', { name: 'Monthly active users' });
    expect(mau).toHaveAttribute('aria-valuetext', '12 of 10,000 used (<1%)');
    expect(mau).toHaveClass('meter-ok');
    const orgs = screen.getByRole('meter', { name: 'Organizations' });
    expect(orgs).toHaveAttribute('aria-valuetext', '85 of 100 used (85%)');
    expect(orgs).toHaveClass('meter-warn');
    expect(screen.getByText('Close to the limit (85%).')).toBeInTheDocument();

    const members = screen.getByRole('region', { name: 'Members per organization' });
    expect(within(members).getByText(/Each organization may have 50 members/)).toBeInTheDocument();
    const big = within(members).getByRole('row', { name: /Big Corp/ });
    expect(big).toHaveTextContent('50 / 50 (100%)');
    expect(within(big).getByRole('meter')).toHaveClass('meter-full');
    expect(within(members).getByRole('row', { name: /Acme/ })).toHaveTextContent('5 / 50 (10%)');

    const chart = screen.getByRole('img', { name: 'Daily active users' });
    expect(chart).toHaveAccessibleDescription(/30 days from Oct 26 to Nov 24\. Highest 40 on Nov 20/);
    expect(chart.querySelectorAll('rect')).toHaveLength(30);
    const table = screen.getByRole('table', { name: 'Daily active users by day' });
    expect(within(table).getAllByRole('row')).toHaveLength(31);
    expect(within(table).getByRole('row', { name: /Nov 20/ })).toHaveTextContent('40');
  });

  it('says "Unlimited" for limits the plan does not set', async () => {
    const cp = new FakeControlPlane().on('GET', `${BASE}/live/usage`, () =>
      usage({
        monthly_active_users: { used: 1234, limit: null },
        members_per_organization: { limit: null, data: [{ organization_id: 'org_acme', name: 'Acme', members: 4, pending_invitations: 0 }] },
      }),
    );
    renderPage(<UsagePage />, cp);
    const card = (await screen.findByRole('heading', { name: 'Monthly active users' })).closest('article')!;
    expect(card).toHaveTextContent('1,234');
    expect(within(card).getByText('Unlimited')).toBeInTheDocument();
    expect(within(card).queryByRole('meter')).toBeNull();
    expect(screen.getByRole('row', { name: /Acme/ })).toHaveTextContent('Unlimited');
  });

  it('explains an instance that is not running in plain words, and retries', async () => {
    const user = userEvent.setup();
    let calls = 0;
    const cp = new FakeControlPlane().on('GET', `${BASE}/live/usage`, () =>
      ++calls === 1 ? json(409, { error: 'instance_not_running', message: 'the instance is suspended, not running: this is answered once it runs' }) : usage(),
    );
    renderPage(<UsagePage />, cp);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('The live instance is not running right now, so its usage cannot be measured.');
    expect(within(alert).getByRole('link', { name: 'Instances' })).toHaveAttribute('href', '/instances');
    expect(document.body.textContent).not.toContain('answered once it runs');
    await user.click(within(alert).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('meter', { name: 'Monthly active users' })).toBeInTheDocument();
  });

  it('leads to the plans when there is no instance yet', async () => {
    const user = userEvent.setup();
    const cp = new FakeControlPlane()
      .on('GET', `${BASE}/live/usage`, () => usage())
      .on('GET', `${BASE}/test/usage`, () => json(404, { error: 'not_found', message: 'instance not found' }));
    renderPage(<UsagePage />, cp);
    await screen.findByRole('meter', { name: 'Organizations' });
    await user.click(screen.getByRole('button', { name: 'Test instance' }));
    expect(await screen.findByRole('heading', { name: 'No test instance yet' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Choose a plan' })).toHaveAttribute('href', '/plans');
    await waitFor(() => expect(cp.callsTo('GET', `${BASE}/test/usage`)).toHaveLength(1));
  });
});
