import { useId } from 'react';
import { experimental_useSubscription } from '../../hooks/useSubscription';
import { useUi } from '../../context/ui';
import { Root } from '../../primitives/Root';

/**
 * EXPERIMENTAL. The current organization's plan. Instances publish no plan data yet, so this
 * renders an explicit empty state that says so.
 */
export function experimental_SubscriptionStatus() {
  const { strings } = useUi();
  const titleId = useId();
  const { isSupported, subscription } = experimental_useSubscription();
  return (
    <Root name="authstack-subscription" as="section" aria-labelledby={titleId}>
      <div className="authstack-card">
        <h2 id={titleId}>{strings.subscriptionTitle}</h2>
        {isSupported && subscription ? (
          <p>
            <strong>{subscription.planName}</strong> <span className="authstack-badge">{subscription.status}</span>
          </p>
        ) : (
          <p className="authstack-muted">{strings.subscriptionUnavailable}</p>
        )}
      </div>
    </Root>
  );
}

/** EXPERIMENTAL. The plans an organization can choose; empty state until instances publish plans. */
export function experimental_PricingTable() {
  const { strings } = useUi();
  const titleId = useId();
  const { isSupported, plans } = experimental_useSubscription();
  return (
    <Root name="authstack-pricing" as="section" aria-labelledby={titleId}>
      <div className="authstack-card authstack-card--wide">
        <h2 id={titleId}>{strings.pricingTitle}</h2>
        {isSupported && plans.length > 0 ? (
          <ul className="authstack-list">
            {plans.map((plan) => (
              <li key={plan.key} className="authstack-list-item">
                <strong>{plan.name}</strong>
                {plan.price ? (
                  <span>
                    {plan.price.amount} {plan.price.currency} / {plan.price.interval}
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        ) : (
          <p className="authstack-muted">{strings.pricingUnavailable}</p>
        )}
      </div>
    </Root>
  );
}

/** EXPERIMENTAL. A link to the billing portal; empty state until instances offer one. */
export function experimental_BillingPortal() {
  const { strings } = useUi();
  const titleId = useId();
  const { isSupported, portalUrl } = experimental_useSubscription();
  return (
    <Root name="authstack-billing-portal" as="section" aria-labelledby={titleId}>
      <div className="authstack-card">
        <h2 id={titleId}>{strings.billingPortalTitle}</h2>
        {isSupported && portalUrl ? (
          <a className="authstack-button" href={portalUrl}>
            {strings.billingPortalTitle}
          </a>
        ) : (
          <p className="authstack-muted">{strings.billingPortalUnavailable}</p>
        )}
      </div>
    </Root>
  );
}
