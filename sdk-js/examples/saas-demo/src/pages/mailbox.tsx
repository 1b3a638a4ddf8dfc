import { useEffect, useState } from 'react';

interface Mail {
  file: string;
  kind: string;
  to: string;
  subject: string;
  link: string | null;
}

/**
 * Dev only: the mail `authstack dev` wrote to its outboxes (served by the Vite plugin in
 * vite.config.ts). Emailed links open the instance's own pages on the gateway
 * (`{gateway}/i/{id}/verify-email?token=…`); this demo finishes the action on its own page of
 * the same name instead ("Open here"), and the mailed link stays available as it is.
 */
export function DevMailboxPage() {
  const [mails, setMails] = useState<Mail[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    fetch('/__authstack/outbox')
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`${r.status}`))))
      .then((body: { data: Mail[] }) => setMails(body.data))
      .catch(() => setError('The dev mailbox is served by `vite` and `vite preview` only.'));
  }, []);
  /** The app's page for a mailed link: the link's last path segment, with its query. */
  const local = (link: string) => {
    const url = new URL(link);
    const page = url.pathname.split('/').filter(Boolean).pop() ?? '';
    return `/${page}${url.search}`;
  };
  return (
    <>
      <h1>Dev mailbox</h1>
      {error ? <p role="alert">{error}</p> : null}
      {mails?.length === 0 ? <p>No mail yet.</p> : null}
      <ul className="mailbox">
        {mails?.map((mail) => (
          <li key={mail.file}>
            <strong>{mail.subject}</strong> to {mail.to} <code>{mail.kind}</code>{' '}
            {mail.link ? (
              <>
                <a href={local(mail.link)}>Open link</a>{' '}
                <a href={mail.link}>(the mailed link)</a>
              </>
            ) : null}
          </li>
        ))}
      </ul>
    </>
  );
}
