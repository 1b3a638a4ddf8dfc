// Stripe Checkout returns to the dashboard with ?checkout=success|cancelled.
import { useState } from 'react';
import { Status } from '../ui/feedback';

export function CheckoutNotice() {
  const [outcome, setOutcome] = useState(() => new URLSearchParams(window.location.search).get('checkout'));
  if (outcome !== 'success' && outcome !== 'cancelled') return null;
  const dismiss = () => {
    const url = new URL(window.location.href);
    url.searchParams.delete('checkout');
    window.history.replaceState(null, '', url);
    setOutcome(null);
  };
  return outcome === 'success' ? (
    <Status>
      <p>Payment received. Your instances are being set up; this page follows their progress.</p>
      <button type="button" className="button-secondary" onClick={dismiss}>
        Dismiss
      </button>
    </Status>
  ) : (
    <div className="notice" role="status">
      <p>Checkout was cancelled; nothing was charged. Choose a plan again whenever you are ready.</p>
      <button type="button" className="button-secondary" onClick={dismiss}>
        Dismiss
      </button>
    </div>
  );
}
