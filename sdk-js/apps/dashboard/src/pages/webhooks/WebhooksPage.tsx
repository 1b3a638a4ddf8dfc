// Webhooks: the endpoints an instance's configuration lists, per instance. Each with its status
// (disabled by the instance after a day of failed deliveries, with the reason, and enabled again
// here), its events and its secret's prefix; rotate the secret (shown once, with copy), send a
// test event, and the delivery log (status, latency, the answer's first bytes) with replay.
// Endpoints are added and removed by a configuration revision, not here. Seeing them needs
// `keys:read`, acting on them `keys:manage`; rotating may need a fresh sign-in. Below, the
// account's own endpoints for the control plane's events (`AccountEvents`).
import { useState } from 'react';
import { useAccount } from '../../account/context';
import { useReauthenticate } from '../../account/reauthenticate';
import type { Environment, WebhookEndpoint, WebhookSecret } from '../../api/types';
import { Link } from '../../shell/router';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { Confirm } from '../../ui/Confirm';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { InstanceLoadError } from '../../ui/InstanceLoadError';
import { EmptyState, ErrorNotice, formatTime, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { AccountEvents } from './AccountEvents';
import { DeliveryLog } from './DeliveryLog';
import { SecretCard } from './SecretCard';

const INTRO = (
  <p>
    An instance POSTs its events (sign-ups, sessions, organization changes…) to the endpoints its configuration lists, signed
    per Standard Webhooks. Endpoints are added and removed in the configuration: <Link to="/revisions">create a revision</Link>{' '}
    that changes <code>webhooks</code>.
  </p>
);

export function WebhooksPage({ canRead = true, canManage }: { canRead?: boolean; canManage: boolean }) {
  if (canRead) return <Webhooks canManage={canManage} />;
  return (
    <section aria-labelledby="webhooks-title" className="page">
      <h1 id="webhooks-title">Webhooks</h1>
      {INTRO}
      <div className="notice" role="note">
        <p>
          Your role in this account does not allow seeing webhooks: that needs the <code>keys:read</code> permission, and
          rotating secrets, sending test events, enabling endpoints and replaying events <code>keys:manage</code>.
        </p>
      </div>
    </section>
  );
}

function Webhooks({ canManage }: { canManage: boolean }) {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('live');
  const endpoints = useLoad(() => api.webhooks.list(account.id, env), [api, account.id, env]);
  const [revealed, setRevealed] = useState<{ url: string; rotated: WebhookSecret } | null>(null);
  const [rotating, setRotating] = useState<WebhookEndpoint | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const reauth = useReauthenticate();
  const action = useAction(async (work: () => Promise<string | null>) => {
    setDone(null);
    const said = await work();
    if (said !== null) setDone(said);
    await endpoints.reload();
  });

  function switchTo(next: Environment) {
    setEnv(next);
    setRevealed(null);
    setRotating(null);
    setOpen(null);
    setDone(null);
    action.clearError();
  }

  const rotate = (endpoint: WebhookEndpoint) =>
    action.run(async () => {
      const rotated = await reauth.guard('Rotating a webhook secret', () =>
        api.webhooks.rotateSecret(account.id, env, endpoint.id),
      );
      setRotating(null);
      if (!rotated) return null;
      setRevealed({ url: endpoint.url, rotated });
      return null;
    });

  return (
    <section aria-labelledby="webhooks-title" className="page">
      <h1 id="webhooks-title">Webhooks</h1>
      {INTRO}
      <EnvironmentPicker value={env} onChange={switchTo} />
      {revealed && (
        <SecretCard secret={revealed.rotated.secret} previousUntil={revealed.rotated.previous_secret_expires_at} onDone={() => setRevealed(null)}>
          The signing secret of <code>{revealed.url}</code> was rotated.
        </SecretCard>
      )}
      {done && <Status>{done}</Status>}
      {action.error !== null && <ErrorNotice error={action.error} />}
      {reauth.dialog}
      {rotating && (
        <Confirm
          title={`Rotate the signing secret of ${rotating.url}?`}
          confirmLabel="Rotate secret"
          busy={action.busy}
          onCancel={() => setRotating(null)}
          onConfirm={() => rotate(rotating)}
        >
          <p>
            The new secret is shown once. Deliveries carry a signature with the previous secret too for 24 hours (when it was
            ever shown), so receivers can switch without failing.
          </p>
        </Confirm>
      )}
      {endpoints.isLoading && !endpoints.data ? (
        <Loading label="Loading webhooks…" />
      ) : !endpoints.data ? (
        <InstanceLoadError env={env} lives="Webhooks are sent by an instance." cannot="its webhooks cannot be shown" error={endpoints.error} onRetry={endpoints.reload} />
      ) : endpoints.data.data.length === 0 ? (
        <EmptyState title="No webhook endpoints">
          <p>
            This instance's configuration lists none. <Link to="/revisions">Create a revision</Link> with{' '}
            <code>webhooks: [{'{'}url, events{'}'}]</code> to add one.
          </p>
        </EmptyState>
      ) : (
        <>
          {!canManage && (
            <div className="notice" role="note">
              <p>
                You can see this instance's webhooks. Rotating secrets, sending test events, enabling endpoints and replaying
                events needs the <code>keys:manage</code> permission.
              </p>
            </div>
          )}
          <h2>Endpoints of the {env} instance</h2>
          <div className="table-scroll">
            <table>
              <ColumnHeads columns={['Endpoint', 'Status', 'Events', 'Secret', 'Last delivery']} actions />
              <tbody>
                {endpoints.data.data.map((e) => (
                  <tr key={e.id}>
                    <th scope="row">
                      <code>{e.url}</code>
                      {e.description && <span className="hint"> · {e.description}</span>}
                    </th>
                    <td>
                      {e.disabled_at ? (
                        <>
                          <strong>Disabled</strong> since {formatTime(e.disabled_at)}: {e.disabled_reason}
                        </>
                      ) : (
                        'Enabled'
                      )}
                    </td>
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
                                  const queued = await api.webhooks.test(account.id, env, e.id);
                                  return `A webhook.test event (${queued.event_id}) is queued for ${e.url}.${e.disabled_at ? ' It is sent once the endpoint is enabled.' : ''}`;
                                })
                              }
                            >
                              Send test event
                            </button>
                            <button type="button" className="button-secondary" aria-label={`Rotate secret of ${e.url}`} onClick={() => setRotating(e)}>
                              Rotate secret
                            </button>
                            {e.disabled_at && (
                              <button
                                type="button"
                                aria-label={`Enable ${e.url}`}
                                disabled={action.busy}
                                onClick={() =>
                                  action.run(async () => {
                                    await api.webhooks.enable(account.id, env, e.id);
                                    return `${e.url} is enabled: its queued events are being sent, oldest first.`;
                                  })
                                }
                              >
                                Enable
                              </button>
                            )}
                          </>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {open && (
            <DeliveryLog
              key={`${env}:${open}`}
              url={endpoints.data.data.find((e) => e.id === open)?.url}
              load={() => api.webhooks.deliveries(account.id, env, open)}
              canManage={canManage}
              onReplay={(d) =>
                action.run(async () => {
                  const replayed = await api.webhooks.replay(account.id, env, d.event_id);
                  return `${d.event_type} (${d.event_id}) is queued again for ${replayed.queued} endpoint${replayed.queued === 1 ? '' : 's'}.`;
                })
              }
            />
          )}
        </>
      )}
      <AccountEvents canManage={canManage} />
    </section>
  );
}
