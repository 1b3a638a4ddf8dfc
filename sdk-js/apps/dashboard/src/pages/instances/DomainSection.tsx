// An instance's custom domain: set it, create the TXT record shown, verify, remove. Plans
// without custom domains see why instead of the controls.
import { useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { ControlPlaneError } from '../../api/controlPlane';
import type { CustomDomain, Instance } from '../../api/types';
import { Link } from '../../shell/router';
import { CopyButton, ErrorNotice, Loading, Status, useAction, useLoad } from '../../ui/feedback';

/** The domain, or null when the instance has none (`404 not_found`). */
async function domainOrNone(load: () => Promise<CustomDomain>): Promise<CustomDomain | null> {
  try {
    return await load();
  } catch (e) {
    if (e instanceof ControlPlaneError && e.code === 'not_found') return null;
    throw e;
  }
}

export function DomainSection({ instance }: { instance: Instance }) {
  const { api, account } = useAccount();
  const env = instance.environment;
  const loaded = useLoad(async () => {
    const plans = await api.plans().catch(() => null);
    const plan = plans?.find((p) => p.id === instance.plan) ?? null;
    const domain = plan?.limits.custom_domain ? await domainOrNone(() => api.domains.get(account.id, env)) : null;
    return { plan, domain };
  }, [api, account.id, env, instance.plan]);
  const [draft, setDraft] = useState('');
  const [verified, setVerified] = useState(false);
  const inputId = useId();

  const set = useAction(async () => {
    await api.domains.set(account.id, env, draft.trim());
    setDraft('');
    setVerified(false);
    await loaded.reload();
  });
  const verify = useAction(async () => {
    await api.domains.verify(account.id, env);
    setVerified(true);
    await loaded.reload();
  });
  const remove = useAction(async () => {
    await api.domains.remove(account.id, env);
    setVerified(false);
    await loaded.reload();
  });

  if (loaded.isLoading && !loaded.data) return <Loading label="Loading the custom domain…" />;
  if (!loaded.data) return <ErrorNotice error={loaded.error} onRetry={loaded.reload} />;
  const { plan, domain } = loaded.data;
  // Without the plans there is nothing to say about the feature.
  if (!plan) return null;

  return (
    <section aria-label="Custom domain" className="domain">
      <h3>Custom domain</h3>
      {!plan.limits.custom_domain ? (
        <p className="hint">
          Custom domains are not part of the {plan.name} plan. <Link to="/plans">Upgrade to Pro or Enterprise</Link> to serve
          this instance at your own domain.
        </p>
      ) : domain ? (
        <>
          <p>
            <code>{domain.domain}</code>{' '}
            <span className={`badge badge-${domain.status === 'verified' ? 'ready' : 'provisioning'}`}>
              {domain.status === 'verified' ? 'Verified' : 'Waiting for verification'}
            </span>
          </p>
          {domain.status === 'verified' ? (
            <p>
              The instance answers at this domain; its issuer is <code>{domain.issuer}</code>. Tokens issued under its gateway
              address keep verifying.
            </p>
          ) : (
            <>
              <p>Create this DNS record at your DNS provider, then verify:</p>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Type</th>
                    <th scope="col">Name</th>
                    <th scope="col">Value</th>
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    <td>{domain.verification.type}</td>
                    <td>
                      <code>{domain.verification.name}</code>
                    </td>
                    <td>
                      <code>{domain.verification.value}</code> <CopyButton text={domain.verification.value} label="Copy value" />
                    </td>
                  </tr>
                </tbody>
              </table>
              <div className="row">
                <button type="button" aria-busy={verify.busy} onClick={() => void verify.run()}>
                  {verify.busy ? 'Verifying…' : 'Verify'}
                </button>
              </div>
            </>
          )}
          {verified && domain.status === 'verified' && <Status>{domain.domain} is verified.</Status>}
          {verify.error !== null && <ErrorNotice error={verify.error} />}
          <div className="row">
            <button type="button" className="button-secondary" aria-busy={remove.busy} onClick={() => void remove.run()}>
              {remove.busy ? 'Removing…' : 'Remove domain'}
            </button>
          </div>
          {remove.error !== null && <ErrorNotice error={remove.error} />}
        </>
      ) : (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (draft.trim()) void set.run();
          }}
        >
          <label htmlFor={inputId}>Domain</label>
          <input
            id={inputId}
            value={draft}
            placeholder="auth.example.com"
            onChange={(e) => setDraft(e.target.value)}
            autoComplete="off"
            spellCheck={false}
          />
          <button type="submit" aria-busy={set.busy} disabled={!draft.trim()}>
            {set.busy ? 'Setting…' : 'Set domain'}
          </button>
        </form>
      )}
      {set.error !== null && <ErrorNotice error={set.error} />}
    </section>
  );
}
