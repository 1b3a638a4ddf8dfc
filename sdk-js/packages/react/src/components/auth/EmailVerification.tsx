import type { User } from '@authstack/client';
import { useEffect, useId, useRef, useState } from 'react';
import { useCore } from '../../context/provider';
import { useUi } from '../../context/ui';
import { describeError } from '../../errors';
import { Alert } from '../../primitives/Alert';
import { Root } from '../../primitives/Root';
import { useLinkToken } from './token';

export interface EmailVerificationProps {
  /** The verification link's token; read from `?token=` when absent. */
  token?: string;
  /** Called once verified; the user is then signed in. */
  onVerified?: (user: User) => void;
}

/** The page an email-verification link opens: verifies once, then the user is signed in. */
export function EmailVerification({ token: given, onVerified }: EmailVerificationProps) {
  const { client } = useCore();
  const { strings, onError } = useUi();
  const titleId = useId();
  const token = useLinkToken(given);
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; error: unknown } | null>(null);
  // The token works once: never spend it twice (StrictMode runs effects twice in development).
  const spent = useRef<string | null>(null);
  const onVerifiedRef = useRef(onVerified);
  onVerifiedRef.current = onVerified;

  useEffect(() => {
    if (!token || spent.current === token) return;
    spent.current = token;
    client.auth.verifyEmail(token).then(
      (user) => {
        setOutcome({ ok: true });
        onVerifiedRef.current?.(user);
      },
      (error: unknown) => {
        onError?.(error);
        setOutcome({ ok: false, error });
      },
    );
  }, [client, token, onError]);

  const error =
    token === null ? strings.verifyEmailMissingToken : outcome && !outcome.ok ? describeError(outcome.error, strings) : null;
  return (
    <Root name="authstack-verify-email" as="section" aria-labelledby={titleId}>
      <div className="authstack-card authstack-form" aria-busy={!outcome && token !== null}>
        <h2 id={titleId}>{outcome?.ok ? strings.verifyEmailDone : strings.verifyEmailTitle}</h2>
        <Alert>{error}</Alert>
        <Alert tone="success">{outcome?.ok ? strings.verifyEmailDone : null}</Alert>
      </div>
    </Root>
  );
}
