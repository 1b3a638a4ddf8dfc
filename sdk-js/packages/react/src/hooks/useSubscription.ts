/**
 * EXPERIMENTAL. The organization's plan and billing state, for `<experimental_SubscriptionStatus>`
 * and friends.
 *
 * An AuthStack instance does not expose its customers' (your end users') plans yet: there is no
 * endpoint for it, so this hook reports `isSupported: false` and no data, and the components
 * render an explicit empty state. The shape is what the components will read once an instance
 * publishes plan data; it may change until then.
 */
export interface ExperimentalSubscription {
  planKey: string;
  planName: string;
  status: 'active' | 'trialing' | 'past_due' | 'canceled';
  currentPeriodEnd: string | null;
}

export interface ExperimentalPlan {
  key: string;
  name: string;
  description?: string;
  price?: { amount: number; currency: string; interval: 'month' | 'year' };
  features?: string[];
}

export interface UseSubscriptionReturn {
  isLoaded: boolean;
  /** False while instances publish no plan data (today). */
  isSupported: boolean;
  subscription: ExperimentalSubscription | null;
  plans: ExperimentalPlan[];
  /** Where the billing portal is, when the instance offers one. */
  portalUrl: string | null;
}

const UNSUPPORTED: UseSubscriptionReturn = Object.freeze({
  isLoaded: true,
  isSupported: false,
  subscription: null,
  plans: [],
  portalUrl: null,
}) as UseSubscriptionReturn;

/** @experimental See the type's documentation: reports that no plan data is available. */
export function experimental_useSubscription(): UseSubscriptionReturn {
  return UNSUPPORTED;
}
