// The plan table (limits side by side), a region picker, and subscribing.
import { useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { featureInactive } from '../../api/capabilities';
import type { Capabilities, Plan, PlanLimits, Region } from '../../api/types';
import { navigate } from '../../shell/router';
import { EmptyState, ErrorNotice, Loading, useLoad } from '../../ui/feedback';

const LIMITS: { key: keyof PlanLimits; label: string }[] = [
  { key: 'monthly_active_users', label: 'Monthly active users' },
  { key: 'organizations', label: 'Organizations' },
  { key: 'members_per_organization', label: 'Members per organization' },
  { key: 'custom_roles_per_organization', label: 'Custom roles per organization' },
  { key: 'api_requests_per_second', label: 'API requests per second per key' },
  { key: 'customization_prompts_per_month', label: 'Customization prompts per month' },
  { key: 'audit_retention_days', label: 'Audit log kept (days)' },
  { key: 'version_history_days', label: 'Revision history kept (days)' },
  { key: 'sso', label: 'SAML single sign-on' },
  { key: 'custom_domain', label: 'Custom domain' },
  { key: 'regions', label: 'Regions' },
];

function show(key: keyof PlanLimits, value: PlanLimits[keyof PlanLimits], regions: Region[], capabilities: Capabilities | null): string {
  if (value === null) return 'Unlimited';
  // A plan may include a feature the product does not deliver yet (`GET /v1/capabilities`).
  if (typeof value === 'boolean') return value ? (featureInactive(capabilities, key) ? 'Included — not available yet' : 'Included') : '—';
  if (Array.isArray(value)) {
    return value.includes('*') ? 'All regions' : value.map((id) => regions.find((r) => r.id === id)?.name ?? id).join(', ');
  }
  return value.toLocaleString();
}

export function PlansPage() {
  const { api, account } = useAccount();
  const catalog = useLoad(async () => {
    const [plans, regions, current, capabilities] = await Promise.all([
      api.plans(),
      api.regions(),
      api.accounts.get(account.id),
      // Loaded with the table, so that no row claims first what the capabilities deny; an older
      // control plane without them marks nothing.
      api.capabilities().catch(() => null),
    ]);
    return { plans, regions, current, capabilities };
  }, [api, account.id]);
  const [region, setRegion] = useState<string>('');
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const regionId = useId();

  if (catalog.isLoading && !catalog.data) return <Loading label="Loading plans…" />;
  if (!catalog.data) return <ErrorNotice error={catalog.error} onRetry={catalog.reload} />;
  const { plans, regions, current, capabilities } = catalog.data;
  const available = regions.filter((r) => r.available);
  const chosen = region || current.subscription?.region || available[0]?.id || '';
  const subscription = current.subscription;

  async function subscribe(plan: Plan) {
    if (busy) return;
    setBusy(plan.id);
    setError(null);
    try {
      const answer = await api.accounts.subscribe(account.id, plan.id, chosen);
      if (answer.checkout_url) {
        // Stripe Checkout; it returns to the dashboard with ?checkout=success|cancelled.
        window.location.assign(answer.checkout_url);
        return;
      }
      navigate('/instances');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby="plans-title" className="page">
      <h1 id="plans-title">Plans</h1>
      {subscription ? (
        <p>
          <strong>{account.name}</strong> is on the <strong>{plans.find((p) => p.id === subscription.plan)?.name ?? subscription.plan}</strong>{' '}
          plan in {regions.find((r) => r.id === subscription.region)?.name ?? subscription.region} ({subscription.status}).
          Choosing another plan changes it; your instances restart on a new revision with the new limits.
        </p>
      ) : (
        <p>Choose a plan and a region. You get a live and a test instance there, each with its own keys and data.</p>
      )}
      {plans.length === 0 ? (
        <EmptyState title="No plans on offer">
          <p>This control plane's catalog has no plans. An operator sets them in plans.yaml.</p>
        </EmptyState>
      ) : (
        <>
          <label htmlFor={regionId}>Region</label>
          {available.length === 0 ? (
            <p role="alert">No region can take new instances right now. Try again later or ask the operator.</p>
          ) : (
            <select id={regionId} value={chosen} onChange={(e) => setRegion(e.target.value)}>
              {regions.map((r) => (
                <option key={r.id} value={r.id} disabled={!r.available}>
                  {r.name}
                  {r.available ? '' : ' (unavailable)'}
                </option>
              ))}
            </select>
          )}
          <p className="hint">Where your instances run and your users' data is stored.</p>
          {error !== null && <ErrorNotice error={error} />}
          <div className="table-scroll">
            <table>
              <caption className="hint">Limits per plan</caption>
              <thead>
                <tr>
                  <th scope="col">Limit</th>
                  {plans.map((p) => (
                    <th scope="col" key={p.id}>
                      {p.name}
                      {subscription?.plan === p.id && <span className="badge"> current</span>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {LIMITS.map(({ key, label }) => (
                  <tr key={key}>
                    <th scope="row">{label}</th>
                    {plans.map((p) => (
                      <td key={p.id}>{show(key, p.limits[key], regions, capabilities)}</td>
                    ))}
                  </tr>
                ))}
                <tr>
                  <th scope="row">
                    <span className="visually-hidden">Choose</span>
                  </th>
                  {plans.map((p) => {
                    const allowed = p.limits.regions.includes('*') || p.limits.regions.includes(chosen);
                    const isCurrent = subscription?.plan === p.id && subscription.region === chosen;
                    return (
                      <td key={p.id}>
                        <button
                          type="button"
                          disabled={!allowed || isCurrent || !chosen}
                          aria-busy={busy === p.id}
                          onClick={() => subscribe(p)}
                        >
                          {isCurrent ? 'Your plan' : busy === p.id ? 'Subscribing…' : `Choose ${p.name}`}
                        </button>
                        {!allowed && <p className="hint">Not offered in this region.</p>}
                      </td>
                    );
                  })}
                </tr>
              </tbody>
            </table>
          </div>
          <p className="hint">Prices are shown at checkout.</p>
        </>
      )}
    </section>
  );
}
