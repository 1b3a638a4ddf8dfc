// The dev mailbox: under `authstack dev` no mail leaves the machine; every instance writes its
// mails to an outbox directory, and GET /v1/dev/mailbox lists them. This page shows them,
// newest first, with each mail's link clickable, and asks again every 2 seconds while open.
import { useEffect, useId, useState } from 'react';
import { ControlPlaneError, type ControlPlane } from '../../api/controlPlane';
import type { Mailbox, MailMessage } from '../../api/types';
import { EmptyState, ErrorNotice, formatTime, Loading, useLoad } from '../../ui/feedback';
import { plural } from '../../ui/plural';

/** How often the open page asks for new mail. */
export const MAILBOX_POLL_MS = 2000;

/** Whether this control plane has a dev mailbox (`authstack dev`): null until it answered. */
export function useDevMailboxAvailable(api: ControlPlane): boolean | null {
  const [available, setAvailable] = useState<boolean | null>(null);
  useEffect(() => {
    let live = true;
    api.devMailbox().then(
      () => live && setAvailable(true),
      () => live && setAvailable(false),
    );
    return () => {
      live = false;
    };
  }, [api]);
  return available;
}

export function DevMailboxPage({ api }: { api: ControlPlane }) {
  const mail = useLoad(() => api.devMailbox(), [api]);
  const [selected, setSelected] = useState<string | null>(null);
  const missing = mail.error instanceof ControlPlaneError && mail.error.code === 'not_found';

  useEffect(() => {
    if (missing) return;
    const timer = window.setInterval(() => void mail.reload(), MAILBOX_POLL_MS);
    return () => window.clearInterval(timer);
  }, [missing, mail.reload]);

  return (
    <section aria-labelledby="mailbox-title" className="page">
      <h1 id="mailbox-title">Dev mailbox</h1>
      <p>
        Under <code>authstack dev</code> no mail is sent: every instance writes its mails to an outbox on this machine. They
        show up here, newest first; this page checks every 2 seconds.
      </p>
      <div className="row">
        <button type="button" className="button-secondary" aria-busy={mail.isLoading} onClick={() => void mail.reload()}>
          Refresh
        </button>
      </div>
      {mail.isLoading && !mail.data ? (
        <Loading label="Loading the mailbox…" />
      ) : missing ? (
        <EmptyState title="No dev mailbox here">
          <p>
            This control plane sends real mail. The dev mailbox exists only when AuthStack runs as <code>authstack dev</code>.
          </p>
        </EmptyState>
      ) : !mail.data ? (
        <ErrorNotice error={mail.error} onRetry={mail.reload} />
      ) : (
        <>
          {mail.error !== null && <ErrorNotice error={mail.error} onRetry={mail.reload} />}
          {mail.data.mailboxes.length === 0 ? (
            <EmptyState title="No mailboxes yet">
              <p>Each instance gets one when it starts.</p>
            </EmptyState>
          ) : (
            mail.data.mailboxes.map((box) => (
              <MailboxView
                key={box.instance_id}
                box={box}
                selected={selected}
                onSelect={(key) => setSelected((s) => (s === key ? null : key))}
              />
            ))
          )}
        </>
      )}
    </section>
  );
}

const keyOf = (box: Mailbox, m: MailMessage) => `${box.instance_id}/${m.id}`;

function MailboxView({ box, selected, onSelect }: { box: Mailbox; selected: string | null; onSelect: (key: string) => void }) {
  const id = useId();
  // The API answers newest first; sorted again so that the page says so whatever the order.
  const messages = [...box.messages].sort((a, b) => b.received_at.localeCompare(a.received_at));
  const open = messages.find((m) => keyOf(box, m) === selected);
  return (
    <div className="card" role="region" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{box.label}</h2>
      <dl>
        <dt>Instance id</dt>
        <dd>
          <code>{box.instance_id}</code>
        </dd>
        <dt>Outbox</dt>
        <dd>
          <code className="break">{box.outbox}</code>
        </dd>
      </dl>
      {box.messages.length === 0 ? (
        <p className="hint">No mail yet.</p>
      ) : (
        <>
          <p className="hint">{plural(box.messages.length, 'mail')}, newest first.</p>
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Mails of {box.label}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">To</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Received</th>
                  <th scope="col">Link</th>
                </tr>
              </thead>
              <tbody>
                {messages.map((m) => {
                  const key = keyOf(box, m);
                  return (
                    <tr key={key}>
                      <td>{m.to}</td>
                      <td>
                        <button
                          type="button"
                          className="button-secondary button-small"
                          aria-pressed={selected === key}
                          aria-controls={`${id}-message`}
                          onClick={() => onSelect(key)}
                        >
                          {m.subject}
                        </button>
                      </td>
                      <td>
                        <time dateTime={m.received_at}>{formatTime(m.received_at)}</time>
                      </td>
                      <td>
                        {m.link ? (
                          <a href={m.link} className="break">
                            {m.link}
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <div id={`${id}-message`} aria-live="polite">
            {open && (
              <article className="card" aria-labelledby={`${id}-subject`}>
                <h3 id={`${id}-subject`}>{open.subject}</h3>
                <p className="hint">
                  To {open.to}, <time dateTime={open.received_at}>{formatTime(open.received_at)}</time> ({open.kind})
                </p>
                {open.link && (
                  <p>
                    <a href={open.link}>Open the link in this mail</a>
                  </p>
                )}
                <pre className="mail-text">{open.text}</pre>
              </article>
            )}
          </div>
        </>
      )}
    </div>
  );
}
