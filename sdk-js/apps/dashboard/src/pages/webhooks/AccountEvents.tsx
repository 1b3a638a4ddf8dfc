// Account events: the endpoints this account registers for the control plane's own events about
// it (instances ready or failed, revisions deployed, rolled back or promoted, subscription and key
// changes), signed like an instance's webhooks. Add one (its secret is shown once), remove it,
// send a test event, rotate the secret (the previous one signs for 24 hours more), enable one the
// control plane disabled after a day of failures, and the delivery log with replay. Seeing them
// needs `keys:read`, acting on them `keys:manage`; adding and rotating may need a fresh sign-in.
import { type FormEvent, useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { useReauthenticate } from '../../account/reauthenticate';
import type { AccountWebhook } from '../../api/types';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { Confirm } from '../../ui/Confirm';
import { ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { DeliveryLog } from './DeliveryLog';
import { SecretCard } from './SecretCard';

/** What the control plane sends; the README's catalogue says when. */
const EVENT_TYPES =
  'instance.ready, instance.failed, revision.deployed, revision.rolled_back, revision.promoted, subscription.activated, subscription.updated, subscription.past_due, subscription.suspended, subscription.canceled, key.created, key.rotated, key.revoked';

interface Revealed {
  url: string;
  secret: string;
  previousUntil: string | null;
  added: boolean;
}

export function AccountEvents({ canManage }: { canManage: boolean }) {
  const { api, account } = useAccount();
  const endpoints = useLoad(() => api.accountWebhooks.list(account.id), [api, account.id]);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [confirming, setConfirming] = useState<{ endpoint: AccountWebhook; what: 'rotate' | 'remove' } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const reauth = useReauthenticate();
  const action = useAction(async (work: () => Promise<string | null>) => {
    setDone(null);
    const said = await work();
    if (said !== null) setDone(said);
    await endpoints.reload();
  });

  const confirm = (endpoint: AccountWebhook, what: 'rotate' | 'remove') =>
    action.run(async () => {
      setConfirming(null);
      if (what === 'remove') {
        await api.accountWebhooks.remove(account.id, endpoint.id);
        if (open === endpoint.id) setOpen(null);
        return `${endpoint.url} is removed, with its queued events and delivery log.`;
      }
      const rotated = await reauth.guard('Rotating a webhook secret', () => api.accountWebhooks.rotateSecret(account.id, endpoint.id));
      if (rotated) setRevealed({ url: endpoint.url, secret: rotated.secret, previousUntil: rotated.previous_secret_expires_at ?? null, added: false });
      return null;
    });

  const list = endpoints.data?.data;
  return (
    <section aria-labelledby="account-events-title">
      <h2 id="account-events-title">Account events</h2>
      <p>
        The control plane POSTs its own events about this account to the endpoints you add here, signed the same way: <code>{EVENT_TYPES}</code>.
      </p>
      {revealed && (
        <SecretCard secret={revealed.secret} previousUntil={revealed.previousUntil} onDone={() => setRevealed(null)}>
          {revealed.added ? 'The endpoint ' : 'The signing secret of '}
          <code>{revealed.url}</code> {revealed.added ? 'is added.' : 'was rotated.'}
        </SecretCard>
      )}
      {done && <Status>{done}</Status>}
      {action.error !== null && <ErrorNotice error={action.error} />}
      {reauth.dialog}
      {confirming && (
        <Confirm
          title={confirming.what === 'rotate' ? `Rotate the signing secret of ${confirming.endpoint.url}?` : `Remove ${confirming.endpoint.url}?`}
          confirmLabel={confirming.what === 'rotate' ? 'Rotate secret' : 'Remove endpoint'}
          danger={confirming.what === 'remove'}
          busy={action.busy}
          onCancel={() => setConfirming(null)}
          onConfirm={() => confirm(confirming.endpoint, confirming.what)}
        >
          <p>
            {confirming.what === 'rotate'
              ? 'The new secret is shown once. Deliveries carry a signature with the previous secret too for 24 hours.'
              : 'Its queued events and its delivery log go with it.'}
          </p>
        </Confirm>
      )}
      {canManage && (
        <AddEndpoint
          guard={reauth.guard}
          onAdded={(url, secret) => {
            setRevealed({ url, secret, previousUntil: null, added: true });
            void endpoints.reload();
          }}
        />
      )}
      {endpoints.isLoading && !list ? (
        <Loading label="Loading account endpoints…" />
      ) : !list ? (
        <ErrorNotice error={endpoints.error} onRetry={endpoints.reload} />
      ) : list.length === 0 ? (
        <p>No endpoint receives this account's events yet.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <ColumnHeads columns={['Endpoint', 'Status', 'Events', 'Secret', 'Last delivery']} actions />
            <tbody>
              {list.map((e) => (
                <tr key={e.id}>
                  <th scope="row">
                    <code>{e.url}</code>
                    {e.description && <span className="hint"> · {e.description}</span>}
                  </th>
                  <td>{e.disabled_at ? <><strong>Disabled</strong> since {formatTime(e.disabled_at)}: {e.disabled_reason}</> : 'Enabled'}</td>
                  <td>{e.events.join(', ')}</td>
                  <td>
                    <code>{e.secret_prefix}…</code>
                  </td>
                  <td>{e.last_delivery ? `${e.last_delivery.status}, ${formatTime(e.last_delivery.created_at)}` : 'None yet'}</td>
                  <td>
                    <div className="row">
                      <button type="button" className="button-secondary" aria-label={`Deliveries of ${e.url}`} onClick={() => setOpen(open === e.id ? null : e.id)}>
                        {open === e.id ? 'Hide deliveries' : 'Deliveries'}
                      </button>
                      {canManage && (
                        <>
                          <button
                            type="button"
                            className="button-secondary"
                            aria-label={`Send a test event to ${e.url}`}
                            disabled={action.busy}
                            onClick={() =>
                              action.run(async () => {
                                const queued = await api.accountWebhooks.test(account.id, e.id);
                                return `A webhook.test event (${queued.event_id}) is queued for ${e.url}.`;
                              })
                            }
                          >
                            Send test event
                          </button>
                          <button type="button" className="button-secondary" aria-label={`Rotate secret of ${e.url}`} onClick={() => setConfirming({ endpoint: e, what: 'rotate' })}>
                            Rotate secret
                          </button>
                          {e.disabled_at && (
                            <button
                              type="button"
                              aria-label={`Enable ${e.url}`}
                              disabled={action.busy}
                              onClick={() =>
                                action.run(async () => {
                                  await api.accountWebhooks.enable(account.id, e.id);
                                  return `${e.url} is enabled: its queued events are being sent, oldest first.`;
                                })
                              }
                            >
                              Enable
                            </button>
                          )}
                          <button type="button" className="button-danger" aria-label={`Remove ${e.url}`} onClick={() => setConfirming({ endpoint: e, what: 'remove' })}>
                            Remove
                          </button>
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {open && list && (
        <DeliveryLog
          key={open}
          url={list.find((e) => e.id === open)?.url}
          load={() => api.accountWebhooks.deliveries(account.id, open)}
          canManage={canManage}
          onReplay={(d) =>
            action.run(async () => {
              const replayed = await api.accountWebhooks.replay(account.id, d.event_id);
              return `${d.event_type} (${d.event_id}) is queued again for ${replayed.queued} endpoint${replayed.queued === 1 ? '' : 's'}.`;
            })
          }
        />
      )}
    </section>
  );
}

function AddEndpoint({
  guard,
  onAdded,
}: {
  guard: ReturnType<typeof useReauthenticate>['guard'];
  onAdded: (url: string, secret: string) => void;
}) {
  const { api, account } = useAccount();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState('*');
  const [description, setDescription] = useState('');
  const id = useId();
  const add = useAction(async () => {
    const params = {
      url: url.trim(),
      events: events.split(',').map((e) => e.trim()).filter(Boolean),
      description: description.trim() || null,
    };
    const created = await guard('Adding a webhook endpoint', () => api.accountWebhooks.create(account.id, params));
    // Cancelled at the password: the form stays as it was.
    if (!created) return;
    onAdded(created.webhook.url, created.secret);
    setUrl('');
    setDescription('');
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    void add.run();
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Add an endpoint</h3>
      <label htmlFor={`${id}-url`}>Endpoint URL</label>
      <input id={`${id}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} required maxLength={2000} placeholder="https://api.example.com/authstack-events" />
      <label htmlFor={`${id}-events`}>Events</label>
      <input id={`${id}-events`} value={events} onChange={(e) => setEvents(e.target.value)} required placeholder="revision.*, instance.ready" />
      <p className="hint">Event types or patterns, comma-separated: an exact type, a prefix with .*, or * for all.</p>
      <label htmlFor={`${id}-description`}>Description</label>
      <input id={`${id}-description`} value={description} onChange={(e) => setDescription(e.target.value)} maxLength={200} placeholder="Deploy notifications" />
      {add.error !== null && <ErrorNotice error={add.error} />}
      <button type="submit" aria-busy={add.busy}>
        {add.busy ? 'Adding…' : 'Add endpoint'}
      </button>
    </form>
  );
}
