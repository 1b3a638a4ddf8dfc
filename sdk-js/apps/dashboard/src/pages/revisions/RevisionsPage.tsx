// Revisions of an instance's configuration: history, side-by-side diff of any two, deploy,
// rollback, export and import YAML (with a dry-run preview), promote test → live.
import { useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { ControlPlaneError } from '../../api/controlPlane';
import type { ChangeResult, Deployment, Environment, Revision, RevisionDiff, RevisionSource } from '../../api/types';
import { Confirm } from '../../ui/Confirm';
import { DiffView } from '../../ui/DiffView';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { CopyButton, EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { ColumnHeads } from '../../ui/ColumnHeads';

const SOURCES: Record<RevisionSource, string> = {
  initial: 'Initial',
  dashboard: 'Dashboard',
  api: 'API',
  import: 'Import',
  customization: 'Customize',
  plan_change: 'Plan change',
  promotion: 'Promotion',
};

const OUTCOMES = { pending: 'Not deployed', deploying: 'Deploying', deployed: 'Deployed', failed: 'Failed' } as const;

export function deploymentWords(d: Deployment): string {
  switch (d.outcome) {
    case 'deployed':
      return `Revision ${d.revision} is deployed.`;
    case 'failed':
      return `Revision ${d.revision} failed to deploy${d.detail ? ` (${d.detail})` : ''}. The instance stays on revision ${d.current_revision ?? 'its last healthy one'}.`;
    default:
      return `Revision ${d.revision} is still deploying. This page shows its outcome once it settles.`;
  }
}

export function RevisionsPage() {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('live');
  const [older, setOlder] = useState<Revision[]>([]);
  const history = useLoad(() => api.revisions.list(account.id, env), [api, account.id, env]);
  const [message, setMessage] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ kind: 'deploy'; n: number } | { kind: 'rollback' } | null>(null);
  const [exported, setExported] = useState<{ n: number; yaml: string } | null>(null);

  const act = useAction(async (work: () => Promise<string>) => {
    setMessage(null);
    const text = await work();
    setConfirm(null);
    setMessage(text);
    setOlder([]);
    await history.reload();
  });

  const more = useAction(async () => {
    const before = history.data?.next_before;
    if (!before) return;
    const last = older.length ? older[older.length - 1]!.number : before + 1;
    const page = await api.revisions.list(account.id, env, last);
    setOlder((o) => [...o, ...page.data]);
  });

  const switchEnv = (e: Environment) => {
    setEnv(e);
    setOlder([]);
    setMessage(null);
    setExported(null);
    setConfirm(null);
  };

  const revisions = [...(history.data?.data ?? []), ...older];

  return (
    <section aria-labelledby="revisions-title" className="page">
      <h1 id="revisions-title">Revisions</h1>
      <p>Every configuration change is a numbered revision. Deploy any of them, or roll back to a healthy one.</p>
      <EnvironmentPicker value={env} onChange={switchEnv} />
      {message && <Status>{message}</Status>}
      {act.error !== null && <ErrorNotice error={act.error} />}
      {confirm?.kind === 'rollback' && (
        <Confirm
          title="Roll back?"
          confirmLabel="Roll back"
          busy={act.busy}
          onCancel={() => setConfirm(null)}
          onConfirm={() => act.run(async () => deploymentWords(await api.revisions.rollback(account.id, env)))}
        >
          <p>The {env} instance goes back to the newest healthy revision before the one it runs. No request fails meanwhile.</p>
        </Confirm>
      )}
      {confirm?.kind === 'deploy' && (
        <Confirm
          title={`Deploy revision ${confirm.n}?`}
          confirmLabel="Deploy"
          busy={act.busy}
          onCancel={() => setConfirm(null)}
          onConfirm={() => act.run(async () => deploymentWords(await api.revisions.deploy(account.id, env, confirm.n)))}
        >
          <p>If it does not become ready, the {env} instance stays on its current revision.</p>
        </Confirm>
      )}
      {act.busy && <p role="status">Deploying; this takes a few seconds…</p>}

      {history.isLoading && !history.data ? (
        <Loading label="Loading revisions…" />
      ) : !history.data ? (
        history.error instanceof ControlPlaneError && history.error.code === 'not_found' ? (
          <EmptyState title={`No ${env} instance`}>
            <p>Subscribe to a plan first; each subscription has a live and a test instance.</p>
          </EmptyState>
        ) : (
          <ErrorNotice error={history.error} onRetry={history.reload} />
        )
      ) : (
        <>
          <div className="row">
            <button type="button" className="button-secondary" onClick={() => setConfirm({ kind: 'rollback' })}>
              Roll back to the last healthy revision
            </button>
          </div>
          <p className="hint">
            Wanted revision {history.data.revision}; running {history.data.current_revision ?? 'none yet'}; last healthy{' '}
            {history.data.last_healthy_revision ?? 'none yet'}.
          </p>
          <Compare env={env} revisions={revisions} current={history.data.current_revision} />
          <h2>History</h2>
          <div className="table-scroll">
            <table>
              <ColumnHeads columns={['Revision', 'Summary', 'Source', 'Created', 'Outcome']} actions />
              <tbody>
                {revisions.map((r) => (
                  <tr key={r.number}>
                    <th scope="row">
                      {r.number}
                      {r.current && <span className="badge"> running</span>}
                      {r.last_healthy && !r.current && <span className="badge"> last healthy</span>}
                    </th>
                    <td>{r.summary || '—'}</td>
                    <td>{SOURCES[r.source] ?? r.source}</td>
                    <td>{formatTime(r.created_at)}</td>
                    <td>
                      <span className={`badge badge-${r.outcome}`}>{OUTCOMES[r.outcome] ?? r.outcome}</span>
                      {r.outcome_detail && <p className="hint">{r.outcome_detail}</p>}
                    </td>
                    <td>
                      <div className="row">
                        {!r.current && (
                          <button type="button" className="button-secondary" aria-label={`Deploy revision ${r.number}`} onClick={() => setConfirm({ kind: 'deploy', n: r.number })}>
                            Deploy
                          </button>
                        )}
                        <button
                          type="button"
                          className="button-secondary"
                          aria-label={`Export YAML of revision ${r.number}`}
                          onClick={() =>
                            act.run(async () => {
                              setExported({ n: r.number, yaml: await api.revisions.exportYaml(account.id, env, r.number) });
                              return `Revision ${r.number} exported below.`;
                            })
                          }
                        >
                          Export YAML
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {history.data.next_before && (
            <button type="button" className="button-secondary" aria-busy={more.busy} onClick={() => more.run()}>
              Show older revisions
            </button>
          )}
          {more.error !== null && <ErrorNotice error={more.error} />}
          {exported && (
            <div className="card" role="region" aria-label={`Revision ${exported.n} as YAML`}>
              <h2>Revision {exported.n} as YAML</h2>
              <pre>
                <code>{exported.yaml}</code>
              </pre>
              <div className="row">
                <CopyButton text={exported.yaml} label="Copy YAML" />
                <a href={`data:application/yaml;charset=utf-8,${encodeURIComponent(exported.yaml)}`} download={`authstack-${env}-r${exported.n}.yaml`}>
                  Download
                </a>
              </div>
            </div>
          )}
          <Import env={env} onDone={(text) => (setMessage(text), setOlder([]), void history.reload())} />
          {env === 'live' && <Promote onDone={(text) => (setMessage(text), setOlder([]), void history.reload())} />}
        </>
      )}
    </section>
  );
}

function Compare({ env, revisions, current }: { env: Environment; revisions: Revision[]; current: number | null }) {
  const { api, account } = useAccount();
  const id = useId();
  const numbers = revisions.map((r) => r.number);
  const [from, setFrom] = useState<number | ''>('');
  const [to, setTo] = useState<number | ''>('');
  const [diff, setDiff] = useState<RevisionDiff | null>(null);
  // By default: what the newest revision changes against the running one (or its predecessor).
  const defaultTo = numbers[0];
  const defaultFrom = current !== null && current !== defaultTo && numbers.includes(current) ? current : numbers[1];
  const a = from === '' ? defaultFrom : from;
  const b = to === '' ? defaultTo : to;
  const compare = useAction(async () => {
    if (a === undefined || b === undefined) return;
    setDiff(await api.revisions.diff(account.id, env, a, b));
  });
  if (numbers.length < 2) return null;
  return (
    <form
      className="card"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        void compare.run();
      }}
    >
      <h2 id={`${id}-title`}>Compare two revisions</h2>
      <div className="row">
        <label htmlFor={`${id}-from`}>From</label>
        <select id={`${id}-from`} value={a ?? ''} onChange={(e) => setFrom(Number(e.target.value))}>
          {numbers.map((n) => (
            <option key={n} value={n}>
              Revision {n}
            </option>
          ))}
        </select>
        <label htmlFor={`${id}-to`}>To</label>
        <select id={`${id}-to`} value={b ?? ''} onChange={(e) => setTo(Number(e.target.value))}>
          {numbers.map((n) => (
            <option key={n} value={n}>
              Revision {n}
            </option>
          ))}
        </select>
        <button type="submit" aria-busy={compare.busy}>
          Compare
        </button>
      </div>
      {compare.error !== null && <ErrorNotice error={compare.error} />}
      {diff && (
        <DiffView
          diff={diff}
          caption={`Revision ${diff.from} and revision ${diff.to}, side by side`}
          fromLabel={`Revision ${diff.from}`}
          toLabel={`Revision ${diff.to}`}
          securityNotes={diff.security_notes}
        />
      )}
    </form>
  );
}

function Import({ env, onDone }: { env: Environment; onDone: (message: string) => void }) {
  const { api, account } = useAccount();
  const id = useId();
  const [yaml, setYaml] = useState('');
  const [summary, setSummary] = useState('');
  const [preview, setPreview] = useState<ChangeResult | null>(null);
  const dryRun = useAction(async () => {
    setPreview(await api.revisions.importYaml(account.id, env, yaml, { dryRun: true }));
  });
  const apply = useAction(async () => {
    const result = await api.revisions.importYaml(account.id, env, yaml, { dryRun: false, deploy: true, summary });
    setPreview(null);
    setYaml('');
    onDone(result.deployment ? deploymentWords(result.deployment) : `Imported as revision ${result.revision?.number ?? ''}.`);
  });
  return (
    <form className="card" aria-labelledby={`${id}-title`} onSubmit={(e) => (e.preventDefault(), void dryRun.run())}>
      <h2 id={`${id}-title`}>Import YAML</h2>
      <p className="hint">A whole configuration, as exported. Preview shows what would change before anything is saved.</p>
      <label htmlFor={`${id}-file`}>File</label>
      <input
        id={`${id}-file`}
        type="file"
        accept=".yaml,.yml,.json,application/yaml,text/yaml"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          if (file) setYaml(await file.text());
          setPreview(null);
        }}
      />
      <label htmlFor={`${id}-yaml`}>Configuration</label>
      <textarea id={`${id}-yaml`} className="mono" rows={10} cols={80} value={yaml} onChange={(e) => (setYaml(e.target.value), setPreview(null))} />
      <label htmlFor={`${id}-summary`}>Summary (optional)</label>
      <input id={`${id}-summary`} value={summary} onChange={(e) => setSummary(e.target.value)} />
      <div className="row">
        <button type="submit" disabled={!yaml.trim()} aria-busy={dryRun.busy}>
          Preview import
        </button>
        {preview?.valid && preview.diff.changes.length > 0 && (
          <button type="button" aria-busy={apply.busy} onClick={() => void apply.run()}>
            Import and deploy
          </button>
        )}
      </div>
      {dryRun.error !== null && <ErrorNotice error={dryRun.error} />}
      {apply.error !== null && <ErrorNotice error={apply.error} />}
      {preview && (
        <DiffView
          diff={preview.diff}
          caption={`What the import changes against revision ${preview.base_revision}`}
          fromLabel={`Revision ${preview.base_revision}`}
          toLabel="Imported"
          securityNotes={preview.security_notes}
          errors={preview.errors}
        />
      )}
    </form>
  );
}

function Promote({ onDone }: { onDone: (message: string) => void }) {
  const { api, account } = useAccount();
  const id = useId();
  const [preview, setPreview] = useState<ChangeResult | null>(null);
  const look = useAction(async () => setPreview(await api.revisions.promote(account.id, true)));
  const promote = useAction(async () => {
    const result = await api.revisions.promote(account.id, false);
    setPreview(null);
    onDone(result.deployment ? deploymentWords(result.deployment) : 'The test configuration is now a live revision.');
  });
  return (
    <div className="card" role="region" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Promote test to live</h2>
      <p className="hint">
        The test instance's running configuration becomes a new live revision. Live keeps its own allowed origins, redirect URIs
        and email link address.
      </p>
      <div className="row">
        <button type="button" className="button-secondary" aria-busy={look.busy} onClick={() => void look.run()}>
          Preview promotion
        </button>
        {preview?.valid && preview.diff.changes.length > 0 && (
          <button type="button" aria-busy={promote.busy} onClick={() => void promote.run()}>
            Promote to live
          </button>
        )}
      </div>
      {look.error !== null && <ErrorNotice error={look.error} />}
      {promote.error !== null && <ErrorNotice error={promote.error} />}
      {preview && (
        <DiffView
          diff={preview.diff}
          caption="What promotion changes on live"
          fromLabel={`Live revision ${preview.base_revision}`}
          toLabel="From test"
          securityNotes={preview.security_notes}
          errors={preview.errors}
        />
      )}
    </div>
  );
}
