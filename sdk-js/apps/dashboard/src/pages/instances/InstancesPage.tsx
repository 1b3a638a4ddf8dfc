// Provisioning progress and the instances: state, steps, revisions, last error; polled every
// second until every instance has settled, then "Your AuthStack is ready" with the snippet.
import { useEffect, useState } from 'react';
import { useAccount } from '../../account/context';
import type { Instance, InstanceState, NewKey } from '../../api/types';
import { Link } from '../../shell/router';
import { CopyButton, EmptyState, ErrorNotice, formatTime, Loading, useLoad } from '../../ui/feedback';

const MOVING: InstanceState[] = ['provisioning', 'updating', 'deleting'];

const STATE_WORDS: Record<InstanceState, string> = {
  provisioning: 'Setting up',
  ready: 'Ready',
  updating: 'Updating',
  suspended: 'Suspended',
  deleting: 'Deleting',
  deleted: 'Deleted',
  failed: 'Failed',
};

/** How often the page asks while an instance is moving. */
export const POLL_MS = 1000;

export function InstancesPage() {
  const { api, account } = useAccount();
  const instances = useLoad(() => api.accounts.instances(account.id), [api, account.id]);
  const list = instances.data ?? [];
  const moving = list.some((i) => MOVING.includes(i.state));

  useEffect(() => {
    if (!moving) return;
    const timer = window.setInterval(() => void instances.reload(), POLL_MS);
    return () => window.clearInterval(timer);
  }, [moving, instances.reload]);

  if (instances.isLoading && !instances.data) return <Loading label="Loading instances…" />;
  if (!instances.data) return <ErrorNotice error={instances.error} onRetry={instances.reload} />;

  const order = (i: Instance) => (i.environment === 'live' ? 0 : 1);
  const sorted = [...list].sort((a, b) => order(a) - order(b) || a.region.localeCompare(b.region));
  const live = sorted.find((i) => i.environment === 'live');
  const allReady = sorted.length > 0 && sorted.every((i) => i.state === 'ready');

  return (
    <section aria-labelledby="instances-title" className="page">
      <h1 id="instances-title">Instances</h1>
      {instances.error !== null && <ErrorNotice error={instances.error} onRetry={instances.reload} />}
      {sorted.length === 0 ? (
        <EmptyState title="No instances yet">
          <p>
            Your instances are created when you subscribe. <Link to="/plans">Choose a plan</Link> to get a live and a test
            instance.
          </p>
        </EmptyState>
      ) : (
        <>
          {moving && (
            <p role="status" aria-live="polite">
              Setting up your AuthStack. This page updates every second.
            </p>
          )}
          {allReady && live && <Ready gatewayUrl={live.gateway_url ?? ''} />}
          <div className="cards">
            {sorted.map((i) => (
              <InstanceCard key={i.id} instance={i} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

function InstanceCard({ instance: i }: { instance: Instance }) {
  const heading = `${i.environment === 'live' ? 'Live' : 'Test'} instance`;
  return (
    <article className="card" aria-label={`${heading} in ${i.region}`}>
      <h2>
        {heading} <span className={`badge badge-${i.state}`}>{STATE_WORDS[i.state] ?? i.state}</span>
      </h2>
      <dl>
        <dt>Region</dt>
        <dd>{i.region}</dd>
        <dt>Plan</dt>
        <dd>{i.plan}</dd>
        <dt>Endpoint</dt>
        <dd>{i.gateway_url ? <code>{i.gateway_url}</code> : '—'}</dd>
        <dt>Revision</dt>
        <dd>
          wanted {i.revision}, running {i.current_revision ?? 'none yet'}, last healthy {i.last_healthy_revision ?? 'none yet'}
        </dd>
        <dt>Instance id</dt>
        <dd>
          <code>{i.id}</code>
        </dd>
      </dl>
      {i.last_error && (
        <div className="notice notice-error" role="alert">
          <p>
            <strong>Last error:</strong> {i.last_error}
          </p>
          <p>AuthStack retries on its own; if it keeps failing, roll back to the last healthy revision on the Revisions page.</p>
        </div>
      )}
      {i.steps && i.steps.length > 0 && (
        <>
          <h3>Progress</h3>
          <ol className="steps">
            {i.steps.map((s, n) => (
              <li key={n}>
                <time dateTime={s.at}>{formatTime(s.at)}</time>
                {s.step}
                {s.detail ? `: ${s.detail}` : ''}
              </li>
            ))}
          </ol>
        </>
      )}
    </article>
  );
}

/** The integration snippet, with a live publishable key (browser-safe). */
function Ready({ gatewayUrl }: { gatewayUrl: string }) {
  const { api, account } = useAccount();
  const [key, setKey] = useState<NewKey | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const apiKey = key?.secret ?? 'ask_live_…';
  const snippet = `npm install @authstack/react

import { AuthStackProvider, LoginForm } from '@authstack/react';
import '@authstack/react/styles.css';

export function App() {
  return (
    <AuthStackProvider apiKey="${apiKey}" baseUrl="${gatewayUrl}">
      <LoginForm />
    </AuthStackProvider>
  );
}`;
  return (
    <div className="card" role="region" aria-labelledby="ready-title">
      <h2 id="ready-title">Your AuthStack is ready</h2>
      <p>Add sign-in to your app with our React components:</p>
      <pre>
        <code>{snippet}</code>
      </pre>
      <div className="row">
        <CopyButton text={snippet} label="Copy snippet" />
        {!key && (
          <button
            type="button"
            aria-busy={busy}
            onClick={async () => {
              if (busy) return;
              setBusy(true);
              setError(null);
              try {
                setKey(await api.keys.create(account.id, { name: 'Web app', environment: 'live', kind: 'publishable' }));
              } catch (e) {
                setError(e);
              } finally {
                setBusy(false);
              }
            }}
          >
            Create a live publishable key for this snippet
          </button>
        )}
      </div>
      {key && <p className="hint">A publishable key is safe in browser code. Manage it on the API keys page.</p>}
      {error !== null && <ErrorNotice error={error} />}
    </div>
  );
}
