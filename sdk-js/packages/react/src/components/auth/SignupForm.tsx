import type { SignUpResult } from '@authstack/client';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { useCore } from '../../context/provider';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { EmailField, Field, PasswordField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface SignupFormProps {
  /**
   * Called after a successful signup: `signed-in` when the instance does not require email
   * verification, else `verification-required` (the form then says to check the inbox).
   */
  onSignUp?: (result: SignUpResult) => void;
  /** Ask for a display name (default true). */
  withName?: boolean;
  signInUrl?: string;
}

/** Account creation with email and password. */
export function SignupForm({ onSignUp, withName = true, signInUrl }: SignupFormProps) {
  const { client } = useCore();
  const { strings } = useUi();
  const titleId = useId();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  // The form is replaced by the confirmation: move focus there rather than lose it.
  const doneRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (sentTo) doneRef.current?.focus();
  }, [sentTo]);
  const signUp = useAction(() =>
    client.auth.signUp({ email: email.trim(), password, name: withName && name.trim() ? name.trim() : undefined }),
  );

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await signUp.run();
    if (!result) return;
    if (result.status === 'verification-required') setSentTo(email.trim());
    onSignUp?.(result);
  };

  if (sentTo) {
    return (
      <Root name="authstack-signup" as="section" aria-labelledby={titleId}>
        <div className="authstack-card authstack-form">
          <h2 id={titleId} ref={doneRef} tabIndex={-1}>
            {strings.signUpTitle}
          </h2>
          <Alert tone="success">{format(strings.signUpCheckInbox, { email: sentTo })}</Alert>
        </div>
      </Root>
    );
  }

  return (
    <Root name="authstack-signup" as="section" aria-labelledby={titleId}>
      <form className="authstack-card authstack-form" onSubmit={onSubmit}>
        <h2 id={titleId}>{strings.signUpTitle}</h2>
        <Alert>{signUp.error}</Alert>
        {withName ? (
          <Field
            label={strings.name}
            name="name"
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        ) : null}
        <EmailField value={email} onChange={setEmail} />
        <PasswordField value={password} onChange={setPassword} fresh />
        <Button type="submit" busy={signUp.pending} busyLabel={strings.signUpSubmitting}>
          {strings.signUpSubmit}
        </Button>
        {signInUrl ? (
          <div className="authstack-links">
            <a href={signInUrl}>{strings.haveAccountLink}</a>
          </div>
        ) : null}
      </form>
    </Root>
  );
}
