// A webhook signing secret, shown once with a copy button (after rotating it, or adding an
// account endpoint).
import { type ReactNode, useId } from 'react';
import { CopyButton, formatTime } from '../../ui/feedback';

/** A signing secret shown once, after `children` says whose it is. */
export function SecretCard({
  secret,
  previousUntil,
  onDone,
  children,
}: {
  secret: string;
  previousUntil?: string | null;
  onDone: () => void;
  children: ReactNode;
}) {
  const titleId = useId();
  return (
    <div className="card" role="region" aria-labelledby={titleId}>
      <h2 id={titleId}>Copy the signing secret now</h2>
      <p>
        {children} <strong>You won't see this secret again</strong>: verify the <code>webhook-signature</code> header with it.
        {previousUntil && ` The previous secret signs too until ${formatTime(previousUntil)}.`}
      </p>
      <p className="secret" aria-label="Signing secret">
        {secret}
      </p>
      <div className="row">
        <CopyButton text={secret} label="Copy secret" />
        <button type="button" className="button-secondary" onClick={onDone}>
          I have stored it
        </button>
      </div>
    </div>
  );
}
