import { screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { renderWithAuth } from '../../../test/render';
import { experimental_BillingPortal, experimental_PricingTable, experimental_SubscriptionStatus } from './Subscription';

describe('experimental subscription components', () => {
  it('say plainly that the instance publishes no plan data', async () => {
    const SubscriptionStatus = experimental_SubscriptionStatus;
    const PricingTable = experimental_PricingTable;
    const BillingPortal = experimental_BillingPortal;
    await renderWithAuth(
      <>
        <SubscriptionStatus />
        <PricingTable />
        <BillingPortal />
      </>,
    );
    expect(screen.getByRole('region', { name: 'Subscription' })).toHaveTextContent('Plan and billing details are not available');
    expect(screen.getByRole('region', { name: 'Plans' })).toHaveTextContent('No plans are published by this instance yet.');
    expect(screen.getByRole('region', { name: 'Billing' })).toHaveTextContent('The billing portal is not available');
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
  });
});
