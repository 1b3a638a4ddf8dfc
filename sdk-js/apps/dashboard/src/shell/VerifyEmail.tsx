// The page a verification mail links to ({mail.link_base_url}/verify-email?token=…).
//
// A verification token works once. The SDK's <EmailVerification> guards its own remounts, but
// the dashboard mounts the page twice per visit: signed out, then — once the verification signed
// the user in — again inside the signed-in frame. That second mount spent the token again (200,
// then 400 "invalid, used or expired"). One request per token per page load, shared by every mount.
import type { AuthStackClient, User } from '@authstack/client';
import { describeError, en, useAuthStackClient } from '@authstack/react';
import { useEffect, useId, useRef, useState } from 'react';

const verifications = new WeakMap<AuthStackClient, Map<string, Promise<User>>>();

/** `client.auth.verifyEmail(token)`, sent at most once per client and token while the page is open. */
export function verifyOnce(client: AuthStackClient, token: string): Promise<User> {
  let sent = verifications.get(client);
  if (!sent) verifications.set(client, (sent = new Map()));
  let pending = sent.get(token);
  if (!pending) {
    pending = client.auth.verifyEmail(token);
    sent.set(token, pending);
  }
  return pending;
}

export function VerifyEmail({ onVerified }: { onVerified?: (user: User) => void }) {
  const client = useAuthStackClient();
  const titleId = useId();
  const [token] = useState(() => new URLSearchParams(window.location.search).get('token'));
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; error: unknown } | null>(null);
  const onVerifiedRef = useRef(onVerified);
  onVerifiedRef.current = onVerified;

  useEffect(() => {
    if (!token) return;
    let live = true;
    verifyOnce(client, token).then(
      (user) => {
        if (!live) return;
        setOutcome({ ok: true });
        onVerifiedRef.current?.(user);
      },
      (error: unknown) => live && setOutcome({ ok: false, error }),
    );
    return () => {
      live = false;
    };
  }, [client, token]);

  const error = token === null ? en.verifyEmailMissingToken : outcome && !outcome.ok ? describeError(outcome.error, en) : null;
  return (
    <section className="authstack" aria-labelledby={titleId}>
      <div className="authstack-card authstack-form" aria-busy={!outcome && token !== null}>
        <h2 id={titleId}>{outcome?.ok ? en.verifyEmailDone : en.verifyEmailTitle}</h2>
        {error && (
          <div className="notice notice-error" role="alert">
            <p>{error}</p>
          </div>
        )}
        {outcome?.ok && (
          <div className="notice notice-success" role="status">
            <p>{en.verifyEmailDone}</p>
          </div>
        )}
      </div>
    </section>
  );
}
