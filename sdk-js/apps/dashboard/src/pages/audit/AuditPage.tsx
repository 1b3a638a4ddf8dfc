// The account's audit log: who did what and when, filtered by action, actor and dates, page by
// page, and exported as CSV or JSON with the same filters.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useAccount } from '../../account/context';
import type { AuditEvent, AuditFilters, AuditPage as Page } from '../../api/types';
import { saveDownload } from '../../ui/download';
import { EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { actorFilter, actorWords, summarize, targetName, type KnownNames } from './words';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { plural } from '../../ui/plural';

/** Prefixes of the control plane's actions (control-plane/src/**: `audit::record`). */
export const ACTIONS: { prefix: string; label: string }[] = [
  { prefix: 'account.', label: 'Accounts' },
  { prefix: 'subscription.', label: 'Subscriptions' },
  { prefix: 'billing.', label: 'Billing' },
  { prefix: 'key.', label: 'API keys' },
  { prefix: 'instance.', label: 'Instances' },
  { prefix: 'revision.', label: 'Revisions' },
  { prefix: 'customization.', label: 'Customizations' },
];

const OTHER = 'other';

interface Form {
  action: string;
  otherAction: string;
  actor: string;
  from: string;
  to: string;
}

const EMPTY: Form = { action: '', otherAction: '', actor: '', from: '', to: '' };

/** The start of a local day (`2026-11-24`), `days` later, as RFC 3339. */
function dayStart(date: string, days = 0): string | undefined {
  const [y, m, d] = date.split('-').map(Number);
  if (!y || !m || !d) return undefined;
  return new Date(y, m - 1, d + days).toISOString();
}

function filtersOf(form: Form, actor: string | undefined): AuditFilters {
  const action = form.action === OTHER ? form.otherAction.trim() : form.action;
  return {
    action: action || undefined,
    actor,
    since: form.from ? dayStart(form.from) : undefined,
    // Through the end of the chosen day.
    until: form.to ? dayStart(form.to, 1) : undefined,
  };
}

export function AuditPage({ members }: { members?: ReadonlyMap<string, string> }) {
  const { api, account } = useAccount();
  const id = useId();
  const [form, setForm] = useState<Form>(EMPTY);
  const [applied, setApplied] = useState<AuditFilters>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [more, setMore] = useState<Page[]>([]);
  const [exported, setExported] = useState<string | null>(null);
  const [focusEnd, setFocusEnd] = useState(false);
  const endRef = useRef<HTMLParagraphElement>(null);
  const first = useLoad(() => api.audit.list(account.id, applied), [api, account.id, applied]);
  // Names for the targets, from what the dashboard shows elsewhere; without them (no keys:read,
  // say) targets stay ids.
  const lists = useLoad(
    async () => {
      const [keys, instances] = await Promise.all([
        api.keys.list(account.id).catch(() => []),
        api.accounts.instances(account.id).catch(() => []),
      ]);
      return { keys, instances };
    },
    [api, account.id],
  );
  const known: KnownNames = {
    keys: new Map((lists.data?.keys ?? []).map((k) => [k.id, k.name])),
    instances: new Map((lists.data?.instances ?? []).map((i) => [i.id, i.environment])),
    members,
  };

  const next = more.length > 0 ? more[more.length - 1]!.next_cursor : (first.data?.next_cursor ?? null);
  const events: AuditEvent[] = [...(first.data?.data ?? []), ...more.flatMap((p) => p.data)];
  const filtered = Object.values(applied).some((v) => v !== undefined);

  const loadMore = useAction(async () => {
    if (!next) return;
    const page = await api.audit.list(account.id, applied, next);
    setMore((m) => [...m, page]);
    // The button goes away with the last page: keep the keyboard where the list ends.
    if (!page.next_cursor) setFocusEnd(true);
  });
  useEffect(() => {
    if (!focusEnd) return;
    setFocusEnd(false);
    endRef.current?.focus();
  }, [focusEnd]);

  const exportAs = useAction(async (format: 'csv' | 'json') => {
    setExported(null);
    const file = await api.audit.export(account.id, applied, format);
    saveDownload(file);
    setExported(`Downloaded ${file.filename}.`);
  });

  const set = (change: Partial<Form>) => {
    setForm((f) => ({ ...f, ...change }));
    setFormError(null);
  };

  function apply(event: FormEvent) {
    event.preventDefault();
    if (form.from && form.to && form.from > form.to) {
      setFormError('The “From” day is after the “To” day.');
      document.getElementById(`${id}-from`)?.focus();
      return;
    }
    if (form.action === OTHER && !form.otherAction.trim()) {
      setFormError('Type the action, or the start of it (e.g. revision.).');
      document.getElementById(`${id}-other`)?.focus();
      return;
    }
    const actor = actorFilter(form.actor, members);
    if (actor.error) {
      setFormError(actor.error);
      document.getElementById(`${id}-actor`)?.focus();
      return;
    }
    setMore([]);
    setExported(null);
    setApplied(filtersOf(form, actor.actor));
  }

  function clear() {
    setForm(EMPTY);
    setFormError(null);
    setMore([]);
    setExported(null);
    setApplied({});
  }

  return (
    <section aria-labelledby="audit-title" className="page">
      <h1 id="audit-title">Audit log</h1>
      <p>Everything done in this account — by teammates, by billing, by AuthStack itself — newest first.</p>

      <form className="card filters" role="search" aria-labelledby={`${id}-filters`} onSubmit={apply} noValidate>
        <h2 id={`${id}-filters`}>Filter</h2>
        <div className="filter-grid">
          <div>
            <label htmlFor={`${id}-action`}>Action</label>
            <select id={`${id}-action`} value={form.action} onChange={(e) => set({ action: e.target.value })}>
              <option value="">All actions</option>
              {ACTIONS.map((a) => (
                <option key={a.prefix} value={a.prefix}>
                  {a.label} ({a.prefix}…)
                </option>
              ))}
              <option value={OTHER}>Other…</option>
            </select>
            {form.action === OTHER && (
              <>
                <label htmlFor={`${id}-other`}>Action or its start</label>
                <input
                  id={`${id}-other`}
                  className="mono"
                  value={form.otherAction}
                  placeholder="revision.deploy"
                  spellCheck={false}
                  onChange={(e) => set({ otherAction: e.target.value })}
                />
              </>
            )}
          </div>
          <div>
            <label htmlFor={`${id}-actor`}>Actor</label>
            <input
              id={`${id}-actor`}
              className="mono"
              value={form.actor}
              list={`${id}-actors`}
              placeholder="ada@example.com"
              spellCheck={false}
              aria-describedby={`${id}-actor-hint`}
              onChange={(e) => set({ actor: e.target.value })}
            />
            <datalist id={`${id}-actors`}>
              {[...(members ?? new Map<string, string>())].map(([userId, email]) => (
                <option key={userId} value={email}>
                  {`user:${userId}`}
                </option>
              ))}
              <option value="stripe">Stripe</option>
              <option value="system">AuthStack (automatic)</option>
              <option value="operator">AuthStack operator</option>
            </datalist>
            <p className="hint" id={`${id}-actor-hint`}>
              A teammate's email, or exactly <code>user:usr_…</code>, <code>stripe</code>, <code>system</code> or{' '}
              <code>operator</code>.
            </p>
          </div>
          <div>
            <label htmlFor={`${id}-from`}>From</label>
            <input id={`${id}-from`} type="date" value={form.from} max={form.to || undefined} onChange={(e) => set({ from: e.target.value })} />
          </div>
          <div>
            <label htmlFor={`${id}-to`}>To</label>
            <input id={`${id}-to`} type="date" value={form.to} min={form.from || undefined} onChange={(e) => set({ to: e.target.value })} />
          </div>
        </div>
        {formError && (
          <p className="field-error" role="alert">
            {formError}
          </p>
        )}
        <div className="row">
          <button type="submit">Apply filters</button>
          <button type="button" className="button-secondary" onClick={clear}>
            Clear filters
          </button>
        </div>
      </form>

      <div className="row" role="group" aria-label="Export">
        <button type="button" className="button-secondary" aria-busy={exportAs.busy} onClick={() => void exportAs.run('csv')}>
          Export CSV
        </button>
        <button type="button" className="button-secondary" aria-busy={exportAs.busy} onClick={() => void exportAs.run('json')}>
          Export JSON
        </button>
        <span className="hint">{filtered ? 'With the filters above.' : 'Every event the log keeps.'}</span>
      </div>
      {exported && <Status>{exported}</Status>}
      {exportAs.error !== null && <ErrorNotice error={exportAs.error} />}

      {first.isLoading && !first.data ? (
        <Loading label="Loading the audit log…" />
      ) : !first.data ? (
        <ErrorNotice error={first.error} onRetry={first.reload} />
      ) : events.length === 0 ? (
        <EmptyState title={filtered ? 'No events match these filters' : 'No events yet'}>
          <p>{filtered ? 'Try a longer date range or fewer filters.' : 'Actions in this account appear here as they happen.'}</p>
        </EmptyState>
      ) : (
        <>
          <p className="visually-hidden" role="status" aria-live="polite">
            {plural(events.length, 'event')} shown.
          </p>
          <div className="table-scroll">
            <table className="audit-table">
              <caption className="visually-hidden">Audit events, newest first</caption>
              <ColumnHeads columns={['Time', 'Actor', 'Action', 'Target', 'Details']} />
              <tbody>
                {events.map((e) => (
                  <EventRow key={e.id} event={e} known={known} />
                ))}
              </tbody>
            </table>
          </div>
          {next && (
            <button type="button" className="button-secondary" aria-busy={loadMore.busy} onClick={() => void loadMore.run()}>
              {loadMore.busy ? 'Loading…' : 'Load more'}
            </button>
          )}
          {!next && events.length > 0 && (
            <p className="hint" ref={endRef} tabIndex={-1}>
              That is everything{filtered ? ' that matches' : ''}.
            </p>
          )}
          {loadMore.error !== null && <ErrorNotice error={loadMore.error} onRetry={() => void loadMore.run()} />}
        </>
      )}
    </section>
  );
}

function EventRow({ event: e, known }: { event: AuditEvent; known: KnownNames }) {
  const actor = actorWords(e.actor, known.members);
  const target = e.target ? targetName(e.target, known) : null;
  const summary = summarize(e.detail);
  const rich = e.detail !== null && typeof e.detail === 'object' && Object.keys(e.detail as object).length > 0;
  return (
    <tr>
      <td>
        <time dateTime={e.at}>{formatTime(e.at)}</time>
      </td>
      <td>
        <span title={actor.title}>{actor.text}</span>
      </td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>
        {!e.target ? (
          '—'
        ) : target ? (
          <>
            {target} <code className="hint">{e.target}</code>
          </>
        ) : (
          <code>{e.target}</code>
        )}
      </td>
      <td className="detail">
        {summary || '—'}
        {rich && (
          <details>
            <summary>
              All details<span className="visually-hidden"> of {e.action}</span>
            </summary>
            <pre>
              <code>{JSON.stringify(e.detail, null, 2)}</code>
            </pre>
          </details>
        )}
      </td>
    </tr>
  );
}
