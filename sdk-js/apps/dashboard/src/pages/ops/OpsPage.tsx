// For platform operators: every instance across regions and accounts, with state, revisions,
// last error and endpoint; filters, a search, and "Reconcile" to make the control plane act on
// one now. Refreshes every 5 seconds while an instance is being set up or updated.
import { useEffect, useId, useMemo, useState } from 'react';
import { useDashboard } from '../../account/context';
import { ControlPlaneError } from '../../api/controlPlane';
import type { InstanceState, OpsInstance } from '../../api/types';
import { EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { plural } from '../../ui/plural';

/** How often the page asks while an instance is moving. */
export const OPS_POLL_MS = 5000;

const MOVING: InstanceState[] = ['provisioning', 'updating'];

const STATES: { state: InstanceState; label: string }[] = [
  { state: 'provisioning', label: 'Setting up' },
  { state: 'ready', label: 'Ready' },
  { state: 'updating', label: 'Updating' },
  { state: 'suspended', label: 'Suspended' },
  { state: 'failed', label: 'Failed' },
  { state: 'deleting', label: 'Deleting' },
  { state: 'deleted', label: 'Deleted' },
];

const stateLabel = (s: InstanceState) => STATES.find((x) => x.state === s)?.label ?? s;

/** `operator`: what `GET /v1/me` said (null while unknown: the list itself then tells). */
export function OpsPage({ operator }: { operator: boolean | null }) {
  if (operator === false) return <NotOperator />;
  return <OpsInstances />;
}

function NotOperator() {
  return (
    <section aria-labelledby="ops-title" className="page">
      <h1 id="ops-title">Ops</h1>
      <EmptyState title="Only platform operators can see this page">
        <p>It lists every customer's instances. If you run this AuthStack installation, add your verified email address to the control plane's operator list.</p>
      </EmptyState>
    </section>
  );
}

function OpsInstances() {
  const { api } = useDashboard();
  const id = useId();
  const list = useLoad(() => api.ops.instances(), [api]);
  const [region, setRegion] = useState('');
  const [state, setState] = useState<InstanceState | ''>('');
  const [query, setQuery] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const instances = useMemo(() => list.data ?? [], [list.data]);
  const moving = instances.some((i) => MOVING.includes(i.state));
  const { reload } = list;

  useEffect(() => {
    if (!moving) return;
    const timer = window.setInterval(() => void reload(), OPS_POLL_MS);
    return () => window.clearInterval(timer);
  }, [moving, reload]);

  const reconcile = useAction(async (instance: OpsInstance) => {
    setMessage(null);
    await api.ops.reconcile(instance.id);
    setMessage(`Reconcile requested for ${instance.id}. The control plane acts on it now.`);
    await reload();
  });

  const regions = useMemo(() => [...new Set(instances.map((i) => i.region))].sort(), [instances]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return instances.filter(
      (i) =>
        (!region || i.region === region) &&
        (!state || i.state === state) &&
        (!q ||
          [i.id, i.account_id ?? 'platform', i.plan, i.environment, i.endpoint, i.last_error ?? '', i.region].some((v) =>
            v.toLowerCase().includes(q),
          )),
    );
  }, [instances, region, state, query]);

  if (list.isLoading && !list.data) return <Loading label="Loading every instance…" />;
  if (!list.data) {
    if (list.error instanceof ControlPlaneError && list.error.code === 'forbidden') return <NotOperator />;
    return (
      <section aria-labelledby="ops-title" className="page">
        <h1 id="ops-title">Ops</h1>
        <ErrorNotice error={list.error} onRetry={list.reload} />
      </section>
    );
  }

  return (
    <section aria-labelledby="ops-title" className="page page-wide">
      <h1 id="ops-title">Ops</h1>
      <p>Every instance of every account, in every region. Reconcile asks the control plane to bring one to its wanted state now.</p>
      {list.error !== null && <ErrorNotice error={list.error} onRetry={list.reload} />}
      {message && <Status>{message}</Status>}
      {reconcile.error !== null && <ErrorNotice error={reconcile.error} />}
      <form className="row filters" role="search" aria-label="Filter instances" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label htmlFor={`${id}-region`}>Region</label>
          <select id={`${id}-region`} value={region} onChange={(e) => setRegion(e.target.value)}>
            <option value="">All regions</option>
            {regions.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-state`}>State</label>
          <select id={`${id}-state`} value={state} onChange={(e) => setState(e.target.value as InstanceState | '')}>
            <option value="">All states</option>
            {STATES.map((s) => (
              <option key={s.state} value={s.state}>
                {s.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-search`}>Search</label>
          <input
            id={`${id}-search`}
            type="search"
            value={query}
            placeholder="Instance, account, endpoint, error…"
            onChange={(e) => setQuery(e.target.value)}
          />
        </div>
      </form>
      <p role="status" aria-live="polite" className="hint">
        {shown.length === instances.length
          ? `${plural(instances.length, 'instance')}.`
          : `Showing ${shown.length} of ${plural(instances.length, 'instance')}.`}
        {moving && ' Some are being set up or updated: this list refreshes every 5 seconds.'}
      </p>
      {instances.length === 0 ? (
        <EmptyState title="No instances yet">
          <p>Instances appear here once an account subscribes.</p>
        </EmptyState>
      ) : shown.length === 0 ? (
        <EmptyState title="No instance matches">
          <p>Change the filters or the search.</p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table className="ops-table">
            <caption className="visually-hidden">Every instance</caption>
            <ColumnHeads columns={['Instance', 'Account', 'Region', 'Environment', 'State', 'Plan', 'Revision', 'Last error', 'Endpoint']} actions />
            <tbody>
              {shown.map((i) => (
                <tr key={i.id}>
                  <th scope="row">
                    <code>{i.id}</code>
                  </th>
                  <td>{i.account_id ? <code>{i.account_id}</code> : 'Platform'}</td>
                  <td>{i.region}</td>
                  <td>{i.environment}</td>
                  <td>
                    <span className={`badge badge-${i.state}`}>{stateLabel(i.state)}</span>
                    {i.desired !== 'running' && <p className="hint">wanted {i.desired}</p>}
                  </td>
                  <td>{i.plan}</td>
                  <td>
                    running {i.current_revision ?? 'none'}, last healthy {i.last_healthy_revision ?? 'none'}
                    {i.revision !== i.current_revision && <>, wanted {i.revision}</>}
                  </td>
                  <td>
                    {i.last_error ? <span className="error-text">{i.last_error}</span> : '—'}
                    <p className="hint">updated {formatTime(i.updated_at)}</p>
                  </td>
                  <td>
                    <code className="break">{i.endpoint || '—'}</code>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button-secondary"
                      aria-label={`Reconcile ${i.id}`}
                      aria-busy={reconcile.busy}
                      onClick={() => void reconcile.run(i)}
                    >
                      Reconcile
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
