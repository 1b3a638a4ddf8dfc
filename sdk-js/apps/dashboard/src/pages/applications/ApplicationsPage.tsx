// Applications: the OpenID Connect clients that sign users in through an instance's hosted
// sign-in page. Per instance: the issuer and discovery URL a library needs, each application's
// client id, create (a web application's secret shown once, with copy), rotate the secret and
// delete, each with a confirmation. Seeing them needs `keys:read`, changing them `keys:manage`;
// creating one or rotating its secret may need a fresh sign-in (the password dialog).
import { useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { useReauthenticate } from '../../account/reauthenticate';
import type { Application, ApplicationList, ApplicationWithSecret, Environment } from '../../api/types';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { Confirm } from '../../ui/Confirm';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { InstanceLoadError } from '../../ui/InstanceLoadError';
import { CopyButton, EmptyState, ErrorNotice, formatTime, Loading, Status, useLoad } from '../../ui/feedback';
import { CreateApplication, KINDS, ORGANIZATION_SELECTIONS } from './CreateApplication';

const GRACE: { secs: number; label: string }[] = [
  { secs: 0, label: 'Stop the old secret now' },
  { secs: 3600, label: 'Keep the old secret for 1 hour' },
  { secs: 86400, label: 'Keep the old secret for 1 day' },
  { secs: 7 * 86400, label: 'Keep the old secret for 7 days' },
];

const INTRO = (
  <p>
    An application is an OpenID Connect client of an instance: your users sign in on the instance's hosted page and come back
    to one of its redirect URIs. Any standard OpenID Connect library needs only the issuer, the client id and, for a web
    application, its client secret.
  </p>
);

export function ApplicationsPage({ canRead = true, canManage }: { canRead?: boolean; canManage: boolean }) {
  if (canRead) return <Applications canManage={canManage} />;
  return (
    <section aria-labelledby="apps-title" className="page">
      <h1 id="apps-title">Applications</h1>
      {INTRO}
      <div className="notice" role="note">
        <p>
          Your role in this account does not allow seeing applications: that needs the <code>keys:read</code> permission, and
          creating, rotating or deleting them <code>keys:manage</code>. Ask an owner or admin of the account.
        </p>
      </div>
    </section>
  );
}

/** A secret to show once: what happened, the application, its secret. */
interface Revealed {
  why: string;
  application: ApplicationWithSecret;
  secret: string;
}

function Applications({ canManage }: { canManage: boolean }) {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('live');
  const apps = useLoad(() => api.applications.list(account.id, env), [api, account.id, env]);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [action, setAction] = useState<{ kind: 'rotate' | 'delete'; app: Application } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [grace, setGrace] = useState(0);
  const graceId = useId();
  const reauth = useReauthenticate();

  function switchTo(next: Environment) {
    setEnv(next);
    setRevealed(null);
    setAction(null);
    setError(null);
    setDone(null);
  }

  /** `work` answers `false` when the user cancelled: the confirmation stays as it was. */
  async function run(work: () => Promise<void | false>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      if ((await work()) === false) return;
      setAction(null);
      await apps.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function created(app: ApplicationWithSecret) {
    setDone(null);
    if (app.client_secret) setRevealed({ why: `“${app.name}” was created.`, application: app, secret: app.client_secret });
    else {
      setRevealed(null);
      setDone(`“${app.name}” was created. It is public: it has no secret and signs in with PKCE. Its client id is ${app.id}.`);
    }
    void apps.reload();
  }

  return (
    <section aria-labelledby="apps-title" className="page">
      <h1 id="apps-title">Applications</h1>
      {INTRO}
      <EnvironmentPicker value={env} onChange={switchTo} />
      {apps.data && <ProviderCard list={apps.data} env={env} />}
      {revealed && <SecretCard revealed={revealed} onDone={() => setRevealed(null)} />}
      {done && <Status>{done}</Status>}
      {error !== null && <ErrorNotice error={error} />}
      {reauth.dialog}
      {action?.kind === 'rotate' && (
        <Confirm
          title={`Rotate the secret of “${action.app.name}”?`}
          confirmLabel="Rotate secret"
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={() =>
            run(async () => {
              const rotated = await reauth.guard('Rotating an application secret', () =>
                api.applications.rotateSecret(account.id, env, action.app.id, grace),
              );
              if (!rotated) return false;
              if (rotated.client_secret) {
                setRevealed({ why: `The secret of “${rotated.name}” was rotated.`, application: rotated, secret: rotated.client_secret });
              }
            })
          }
        >
          <p>
            Servers that still use the current secret fail to sign users in once it stops working: keep it for a while to
            switch them over without downtime, or stop it now if it leaked.
          </p>
          <label htmlFor={graceId}>Grace period</label>
          <select id={graceId} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE.map((g) => (
              <option key={g.secs} value={g.secs}>
                {g.label}
              </option>
            ))}
          </select>
        </Confirm>
      )}
      {action?.kind === 'delete' && (
        <Confirm
          title={`Delete “${action.app.name}”?`}
          confirmLabel="Delete application"
          danger
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={() =>
            run(async () => {
              await api.applications.remove(account.id, env, action.app.id);
              if (revealed?.application.id === action.app.id) setRevealed(null);
              setDone(`“${action.app.name}” is deleted. Nobody can sign in to it any more.`);
            })
          }
        >
          <p>Nobody can sign in to this application any more, and its secret stops working. This cannot be undone.</p>
        </Confirm>
      )}
      {apps.isLoading && !apps.data ? (
        <Loading label="Loading applications…" />
      ) : !apps.data ? (
        <InstanceLoadError env={env} lives="Applications live in an instance." cannot="its applications cannot be shown or changed" error={apps.error} onRetry={apps.reload} />
      ) : (
        <>
          {canManage ? (
            <CreateApplication env={env} onCreated={created} guard={reauth.guard} />
          ) : (
            <div className="notice" role="note">
              <p>
                You can see this instance's applications. Creating, rotating and deleting them needs the <code>keys:manage</code>{' '}
                permission: ask an owner or admin of the account.
              </p>
            </div>
          )}
          <h2>Applications of the {env} instance</h2>
          <ApplicationTable
            apps={apps.data.data}
            canManage={canManage}
            onRotate={(app) => setAction({ kind: 'rotate', app })}
            onDelete={(app) => setAction({ kind: 'delete', app })}
          />
        </>
      )}
    </section>
  );
}

function ProviderCard({ list, env }: { list: ApplicationList; env: Environment }) {
  return (
    <div className="card" role="region" aria-label="OpenID Provider">
      <h2>The {env} instance's OpenID Provider</h2>
      <dl>
        <dt>Issuer</dt>
        <dd className="row">
          <code>{list.issuer}</code> <CopyButton text={list.issuer} label="Copy issuer" />
        </dd>
        <dt>Discovery URL</dt>
        <dd className="row">
          <code>{list.discovery_url}</code> <CopyButton text={list.discovery_url} label="Copy discovery URL" />
        </dd>
      </dl>
    </div>
  );
}

function SecretCard({ revealed, onDone }: { revealed: Revealed; onDone: () => void }) {
  return (
    <div className="card" role="region" aria-labelledby="app-secret-title">
      <h2 id="app-secret-title">Copy the client secret now</h2>
      <p>
        {revealed.why} <strong>You won't see this secret again</strong>: AuthStack keeps only a hash of it. Store it on your
        server, never in browser or mobile code.
      </p>
      <p>
        Client id: <code>{revealed.application.id}</code> <CopyButton text={revealed.application.id} label="Copy client id" />
      </p>
      <p className="secret" aria-label="Client secret">
        {revealed.secret}
      </p>
      <div className="row">
        <CopyButton text={revealed.secret} label="Copy secret" />
        <button type="button" className="button-secondary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}

function ApplicationTable({
  apps,
  canManage,
  onRotate,
  onDelete,
}: {
  apps: Application[];
  canManage: boolean;
  onRotate: (app: Application) => void;
  onDelete: (app: Application) => void;
}) {
  if (apps.length === 0) {
    return (
      <EmptyState title="No applications yet">
        <p>Create one for each app whose users sign in through this instance.</p>
      </EmptyState>
    );
  }
  return (
    <div className="table-scroll">
      <table>
        <ColumnHeads columns={['Name', 'Kind', 'Client id', 'Redirect URIs', 'Created']} actions={canManage} />
        <tbody>
          {apps.map((a) => (
            <tr key={a.id}>
              <th scope="row">{a.name}</th>
              <td>
                {KINDS.find((k) => k.kind === a.kind)?.label ?? a.kind}
                {!a.first_party && a.kind !== 'machine' && <span className="hint"> · third-party (asks for consent)</span>}
                {a.organization_selection && a.organization_selection !== 'none' && (
                  <span className="hint">
                    {' '}
                    · organizations: {ORGANIZATION_SELECTIONS.find((o) => o.value === a.organization_selection)?.label.toLowerCase()}
                  </span>
                )}
                {a.kind === 'machine' && (
                  <span className="hint"> · {(a.permissions ?? []).join(', ') || 'no permissions'}</span>
                )}
                {(a.allowed_cors_origins ?? []).length > 0 && (
                  <span className="hint"> · CORS origins: {(a.allowed_cors_origins ?? []).join(', ')}</span>
                )}
                {a.backchannel_logout_uri && <span className="hint"> · back-channel logout: {a.backchannel_logout_uri}</span>}
              </td>
              <td>
                <code>{a.id}</code> <CopyButton text={a.id} label={`Copy client id of ${a.name}`} />
              </td>
              <td>
                {a.redirect_uris.length === 0 ? (
                  'None'
                ) : (
                  <ul className="plain-list">
                    {a.redirect_uris.map((u) => (
                      <li key={u}>
                        <code>{u}</code>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>{formatTime(a.created_at)}</td>
              {canManage && (
                <td>
                  <div className="row">
                    {(a.kind === 'web' || a.kind === 'machine') && (
                      <button type="button" className="button-secondary" aria-label={`Rotate secret of ${a.name}`} onClick={() => onRotate(a)}>
                        Rotate secret
                      </button>
                    )}
                    <button type="button" className="button-secondary" aria-label={`Delete ${a.name}`} onClick={() => onDelete(a)}>
                      Delete
                    </button>
                  </div>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
