// API keys: create, reveal once with copy, rotate with a grace period, revoke with confirmation.
// Who made each key, and a warning for working keys made by members who have since left.
// Creating or rotating a secret key may need a fresh sign-in (the password dialog).
import { useId, useState, type FormEvent } from 'react';
import { useAccount } from '../../account/context';
import { useReauthenticate, type Reauth } from '../../account/reauthenticate';
import type { ApiKey, Environment, NewKey } from '../../api/types';
import { Confirm } from '../../ui/Confirm';
import { CopyButton, EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { plural } from '../../ui/plural';

const GRACE: { secs: number; label: string }[] = [
  { secs: 0, label: 'Stop the old key now' },
  { secs: 3600, label: 'Keep the old key for 1 hour' },
  { secs: 86400, label: 'Keep the old key for 1 day' },
  { secs: 7 * 86400, label: 'Keep the old key for 7 days' },
  { secs: 30 * 86400, label: 'Keep the old key for 30 days' },
];

/** Still accepted: neither revoked nor past its end (a rotated key works through its grace period). */
function works(key: ApiKey, now: number): boolean {
  return !key.revoked_at && !(key.expires_at && Date.parse(key.expires_at) <= now);
}

/** A working key whose maker has left the account: a risk until rotated or revoked. */
function departed(key: ApiKey, now: number): boolean {
  return works(key, now) && key.created_by?.member === false;
}

function DepartedSummary({ count }: { count: number }) {
  const one = count === 1;
  return (
    <div className="notice notice-warning">
      <p>
        <strong>
          {plural(count, 'key')} {one ? 'was' : 'were'} made by {one ? 'a member who has' : 'members who have'} left: rotate or
          revoke {one ? 'it' : 'them'}.
        </strong>{' '}
        {one ? 'It still works' : 'They still work'} for whoever kept a copy.
      </p>
    </div>
  );
}

function MadeBy({ apiKey, now }: { apiKey: ApiKey; now: number }) {
  const by = apiKey.created_by;
  if (!by) return <span title="Made before creators were recorded, or by AuthStack">Not recorded</span>;
  return (
    <>
      {by.email}
      {departed(apiKey, now) && (
        <>
          {' '}
          <span className="badge badge-warning">Made by a member who has left</span>
        </>
      )}
    </>
  );
}

function status(key: ApiKey, now: number): string {
  if (key.revoked_at) return 'Revoked';
  if (key.expires_at && Date.parse(key.expires_at) <= now) return 'Expired';
  if (key.expires_at) return `Rotated: works until ${formatTime(key.expires_at)}`;
  return 'Active';
}

const INTRO = (
  <p>
    Publishable keys (<code>ask_live_…</code>, <code>ask_test_…</code>) go in browser code. Secret keys reach the admin API
    and must stay on your servers. A key only ever reaches its own instance.
  </p>
);

export function KeysPage({ canRead = true, canManage }: { canRead?: boolean; canManage: boolean }) {
  if (canRead) return <Keys canManage={canManage} />;
  return (
    <section aria-labelledby="keys-title" className="page">
      <h1 id="keys-title">API keys</h1>
      {INTRO}
      <div className="notice" role="note">
        <p>
          Your role in this account does not allow seeing API keys: that needs the <code>keys:read</code> permission, and
          creating, rotating or revoking them <code>keys:manage</code>. Ask an owner or admin of the account.
        </p>
      </div>
    </section>
  );
}

function Keys({ canManage }: { canManage: boolean }) {
  const { api, account } = useAccount();
  const keys = useLoad(() => api.keys.list(account.id), [api, account.id]);
  const [revealed, setRevealed] = useState<{ key: NewKey; why: string } | null>(null);
  const [action, setAction] = useState<{ kind: 'rotate' | 'revoke'; key: ApiKey } | null>(null);
  const [grace, setGrace] = useState(86400);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const graceId = useId();
  const reauth = useReauthenticate();

  /** `work` answers `false` when the user cancelled: the confirmation stays as it was. */
  async function run(work: () => Promise<void | false>) {
    if (busy) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      if ((await work()) === false) return;
      setAction(null);
      await keys.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  const now = Date.now();
  const departedCount = keys.data?.filter((k) => departed(k, now)).length ?? 0;
  return (
    <section aria-labelledby="keys-title" className="page">
      <h1 id="keys-title">API keys</h1>
      {INTRO}
      {departedCount > 0 && <DepartedSummary count={departedCount} />}
      {revealed && (
        <div className="card" role="region" aria-labelledby="reveal-title">
          <h2 id="reveal-title">Copy your new key now</h2>
          <p>{revealed.why} It is shown only this once; AuthStack keeps only a hash of it.</p>
          <p className="secret" aria-label="New key">
            {revealed.key.secret}
          </p>
          <div className="row">
            <CopyButton text={revealed.key.secret} label="Copy key" />
            <button type="button" className="button-secondary" onClick={() => setRevealed(null)}>
              I have stored it
            </button>
          </div>
        </div>
      )}
      {canManage ? (
        <CreateKey
          guard={reauth.guard}
          onCreated={(key) => {
            setRevealed({ key, why: `“${key.name}” was created.` });
            void keys.reload();
          }}
        />
      ) : (
        <div className="notice" role="note">
          <p>
            You can see this account's keys. Creating, rotating and revoking them needs the <code>keys:manage</code> permission:
            ask an owner or admin of the account.
          </p>
        </div>
      )}
      {done && <Status>{done}</Status>}
      {error !== null && <ErrorNotice error={error} />}
      {action?.kind === 'rotate' && (
        <Confirm
          title={`Rotate “${action.key.name}”?`}
          confirmLabel="Rotate key"
          busy={busy}
          onCancel={() => {
            reauth.cancel();
            setAction(null);
          }}
          onConfirm={() =>
            run(async () => {
              const key = await reauth.guard('Rotating a secret key', () => api.keys.rotate(account.id, action.key.id, grace));
              if (!key) return false;
              setRevealed({ key, why: `“${key.name}” was rotated: this is its replacement.` });
            })
          }
        >
          <label htmlFor={graceId}>Grace period</label>
          <select id={graceId} value={grace} onChange={(e) => setGrace(Number(e.target.value))}>
            {GRACE.map((g) => (
              <option key={g.secs} value={g.secs}>
                {g.label}
              </option>
            ))}
          </select>
          <p className="hint">Deploy the new key before the old one stops working.</p>
        </Confirm>
      )}
      {action?.kind === 'revoke' && (
        <Confirm
          title={`Revoke “${action.key.name}”?`}
          confirmLabel="Revoke key"
          danger
          busy={busy}
          onCancel={() => setAction(null)}
          onConfirm={() =>
            run(async () => {
              await api.keys.revoke(account.id, action.key.id);
              setDone(`“${action.key.name}” is revoked. Requests with it are refused within a second.`);
            })
          }
        >
          <p>Every request with this key is refused from now on. This cannot be undone.</p>
        </Confirm>
      )}
      {reauth.dialog}
      <h2>Your keys</h2>
      {keys.isLoading && !keys.data ? (
        <Loading label="Loading keys…" />
      ) : !keys.data ? (
        <ErrorNotice error={keys.error} onRetry={keys.reload} />
      ) : keys.data.length === 0 ? (
        <EmptyState title="No keys yet">
          <p>Create a publishable key for your front end and a secret key for your backend.</p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table>
            <ColumnHeads columns={['Name', 'Kind', 'Environment', 'Key', 'Made by', 'Created', 'Last used', 'Status']} actions />
            <tbody>
              {keys.data.map((k) => {
                const live = works(k, now);
                const usable = live && !k.replaced_by;
                return (
                  <tr key={k.id}>
                    <th scope="row">{k.name}</th>
                    <td>{k.kind === 'secret' ? 'Secret' : 'Publishable'}</td>
                    <td>{k.environment}</td>
                    <td>
                      <code>{k.display_prefix}…</code>
                    </td>
                    <td>
                      <MadeBy apiKey={k} now={now} />
                    </td>
                    <td>{formatTime(k.created_at)}</td>
                    <td>{k.last_used_at ? formatTime(k.last_used_at) : 'Never'}</td>
                    <td>{status(k, now)}</td>
                    <td>
                      {canManage && usable && (
                        <div className="row">
                          <button type="button" className="button-secondary" aria-label={`Rotate ${k.name}`} onClick={() => setAction({ kind: 'rotate', key: k })}>
                            Rotate
                          </button>
                          <button type="button" className="button-secondary" aria-label={`Revoke ${k.name}`} onClick={() => setAction({ kind: 'revoke', key: k })}>
                            Revoke
                          </button>
                        </div>
                      )}
                      {canManage && live && k.replaced_by && (
                        <button type="button" className="button-secondary" aria-label={`Revoke now: ${k.name}`} onClick={() => setAction({ kind: 'revoke', key: k })}>
                          Revoke now
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CreateKey({ guard, onCreated }: { guard: Reauth['guard']; onCreated: (key: NewKey) => void }) {
  const { api, account } = useAccount();
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState<Environment>('test');
  const [kind, setKind] = useState<'publishable' | 'secret'>('publishable');
  const id = useId();
  const create = useAction(async () => {
    const params = { name: name.trim(), environment, kind };
    const key = await guard('Creating a secret key', () => api.keys.create(account.id, params));
    // Cancelled at the password: the form stays as it was.
    if (!key) return;
    onCreated(key);
    setName('');
  });
  const { busy, error } = create;

  function submit(event: FormEvent) {
    event.preventDefault();
    void create.run();
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Create a key</h2>
      <label htmlFor={`${id}-name`}>Name</label>
      <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="Web app" />
      <fieldset>
        <legend>Environment</legend>
        <label>
          <input type="radio" name={`${id}-env`} checked={environment === 'test'} onChange={() => setEnvironment('test')} /> Test
        </label>
        <label>
          <input type="radio" name={`${id}-env`} checked={environment === 'live'} onChange={() => setEnvironment('live')} /> Live
        </label>
      </fieldset>
      <fieldset>
        <legend>Kind</legend>
        <label>
          <input type="radio" name={`${id}-kind`} checked={kind === 'publishable'} onChange={() => setKind('publishable')} /> Publishable
          (browser)
        </label>
        <label>
          <input type="radio" name={`${id}-kind`} checked={kind === 'secret'} onChange={() => setKind('secret')} /> Secret (server)
        </label>
      </fieldset>
      {error !== null && <ErrorNotice error={error} />}
      <button type="submit" aria-busy={busy}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
    </form>
  );
}
