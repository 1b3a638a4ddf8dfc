// The page an invitation mail links to ({mail.link_base_url}/accept-invitation?token=…): says
// which organization and role the invitation is for before the invitee accepts, and says plainly
// when the link no longer works. Accepting is the SDK's <AcceptInvitation>.
import type { AcceptedInvitation } from '@authstack/client';
import { AcceptInvitation } from '@authstack/react';
import { useEffect, useState } from 'react';
import { isInvalidInvitation, type InvitationLookup } from '../api/invitations';
import type { InvitationPreview } from '../api/types';
import { formatTime } from '../ui/feedback';

type Looked =
  | { state: 'loading' }
  | { state: 'found'; preview: InvitationPreview }
  | { state: 'invalid'; reason: string }
  | { state: 'unknown' };

const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The instance's reason ("this invitation has expired; ask for a new one") as a sentence. */
function sentence(message: string): string {
  const text = message.trim().replace(/\.+$/, '');
  return text ? `${capital(text)}.` : '';
}

const GENERIC_REASON = 'The invitation is invalid, was already used, or has expired.';
const ASK_AGAIN = 'Ask the person who invited you to send a new one.';

export function InvitationPage({ lookup, onAccepted }: { lookup: InvitationLookup; onAccepted?: (result: AcceptedInvitation) => void }) {
  const [token] = useState(() => new URLSearchParams(window.location.search).get('token'));
  const [looked, setLooked] = useState<Looked>({ state: token ? 'loading' : 'unknown' });

  useEffect(() => {
    if (!token) return;
    let live = true;
    lookup(token).then(
      (preview) => live && setLooked({ state: 'found', preview }),
      (error: unknown) => {
        if (!live) return;
        // Only the instance's verdict on the token (`invalid_grant` with its reason; `invalid_token`
        // from earlier instances) is "invalid"; anything else (an older instance without the
        // lookup, the network) leaves the invitation to the accept step.
        if (isInvalidInvitation(error)) setLooked({ state: 'invalid', reason: sentence(error.message) || GENERIC_REASON });
        else setLooked({ state: 'unknown' });
      },
    );
    return () => {
      live = false;
    };
  }, [lookup, token]);

  if (looked.state === 'loading') {
    return (
      <p className="loading" role="status">
        Looking up your invitation…
      </p>
    );
  }
  if (looked.state === 'invalid') {
    return (
      <section aria-labelledby="invitation-title">
        <h2 id="invitation-title">This invitation link does not work</h2>
        <div className="notice notice-error" role="alert">
          <p>{looked.reason}</p>
          {!/\bask\b/i.test(looked.reason) && <p>{ASK_AGAIN}</p>}
        </div>
      </section>
    );
  }
  return (
    <>
      {looked.state === 'found' && (
        <section aria-labelledby="invitation-title">
          <h2 id="invitation-title">
            Join {looked.preview.organization.name} as {capital(looked.preview.role)}
          </h2>
          <p className="hint">
            The invitation is for <strong>{looked.preview.email}</strong> and expires{' '}
            <time dateTime={looked.preview.expires_at}>{formatTime(looked.preview.expires_at)}</time>.
          </p>
        </section>
      )}
      <AcceptInvitation onAccepted={onAccepted} />
    </>
  );
}
