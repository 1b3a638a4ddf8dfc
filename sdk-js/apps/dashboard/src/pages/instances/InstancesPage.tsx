// Provisioning progress and the instances: state, steps, revisions, last error; polled every
// second until every instance has settled, then "Your AuthStack is ready" with the snippet. The
// panel stays while an instance that already runs a revision deploys a new one (`updating`, as
// after "Allow http://localhost:5173"): it still serves.
import { useEffect, useState } from 'react';
import { useAccount } from '../../account/context';
import type { Instance, InstanceState, NewKey, Platform } from '../../api/types';
import { Link } from '../../shell/router';
import { CopyButton, EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { DomainSection } from './DomainSection';

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

/** Ready, or deploying a new revision while the running one still serves. */
function serving(i: Instance): boolean {
  return i.state === 'ready' || (i.state === 'updating' && i.current_revision !== null);
}

/** How often the page asks while an instance is moving. */
export const POLL_MS = 1000;

export function InstancesPage() {
  const { api, account } = useAccount();
  const instances = useLoad(() => api.accounts.instances(account.id), [api, account.id]);
  const list = instances.data ?? [];
  const moving = list.some((i) => MOVING.includes(i.state));
  // The key the ready panel created, kept here: the panel may go and come back (an instance that
  // stops serving for a while) and re-renders on every poll.
  const [readyKey, setReadyKey] = useState<NewKey | null>(null);

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
  const allServing = sorted.length > 0 && sorted.every(serving);
  const settingUp = sorted.some((i) => MOVING.includes(i.state) && !serving(i));

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
              {settingUp
                ? 'Setting up your AuthStack. This page updates every second.'
                : 'Deploying a change to your AuthStack; it keeps serving meanwhile. This page updates every second.'}
            </p>
          )}
          {allServing && live && (
            <Ready live={live} apiKey={readyKey} onKeyCreated={setReadyKey} onChanged={() => void instances.reload()} />
          )}
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
      <DomainSection instance={i} />
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

/** The origin of a Vite app in development: the one a first integration runs on. */
export const DEV_ORIGIN = 'http://localhost:5173';

/** `npm install` of the SDK: the tarballs this control plane serves when it has them, else the registry's package. */
export function installLine(sdk: Platform['sdk']): string {
  return sdk ? `npm install ${sdk.client} ${sdk.react}` : 'npm install @authstack/react';
}

/** The integration snippet, with a live publishable key (browser-safe). */
function Ready({
  live,
  apiKey: key,
  onKeyCreated,
  onChanged,
}: {
  live: Instance;
  /** The key this panel created (kept by the page). */
  apiKey: NewKey | null;
  onKeyCreated: (key: NewKey) => void;
  onChanged: () => void;
}) {
  const { api, account } = useAccount();
  const gatewayUrl = live.gateway_url ?? '';
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [allowed, setAllowed] = useState(false);
  // `sdk` is null when this control plane serves no SDK tarballs (and absent on older ones).
  const platform = useLoad(() => api.platform().catch(() => null), [api]);
  const allow = useAction(async () => {
    await api.instances.setAllowedOrigins(account.id, 'live', [...live.allowed_origins, DEV_ORIGIN]);
    setAllowed(true);
    onChanged();
  });
  const apiKey = key?.secret ?? 'ask_live_…';
  const snippet = `${installLine(platform.data?.sdk ?? null)}

import { AuthStackProvider, LoginForm } from '@authstack/react';
import '@authstack/react/styles.css';

export function App() {
  return (
    <AuthStackProvider apiKey="${apiKey}" baseUrl="${gatewayUrl}">
      <LoginForm />
    </AuthStackProvider>
  );
}`;
  const alreadyAllowed = live.allowed_origins.includes(DEV_ORIGIN);
  return (
    <div className="card" role="region" aria-labelledby="ready-title">
      <h2 id="ready-title">Your AuthStack is ready</h2>
      <p>Add sign-in to your app with our React components:</p>
      {platform.isLoading ? (
        <Loading label="Loading the snippet…" />
      ) : (
        <pre>
          <code>{snippet}</code>
        </pre>
      )}
      <div className="row">
        {!platform.isLoading && <CopyButton text={snippet} label="Copy snippet" />}
        {!key && (
          <button
            type="button"
            aria-busy={busy}
            onClick={async () => {
              if (busy) return;
              setBusy(true);
              setError(null);
              try {
                onKeyCreated(await api.keys.create(account.id, { name: 'Web app', environment: 'live', kind: 'publishable' }));
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
      <div className="row">
        {allowed ? (
          <Status>{DEV_ORIGIN} may now call your live instance.</Status>
        ) : alreadyAllowed ? (
          <p className="hint">{DEV_ORIGIN} may call your live instance (it is one of its allowed origins).</p>
        ) : (
          <>
            <button type="button" className="button-secondary" aria-busy={allow.busy} onClick={() => void allow.run()}>
              {allow.busy ? 'Allowing…' : `Allow ${DEV_ORIGIN}`}
            </button>
            <span className="hint">Browsers may call the instance only from its allowed origins; a Vite app runs on this one.</span>
          </>
        )}
      </div>
      {allow.error !== null && <ErrorNotice error={allow.error} />}
    </div>
  );
}
