import type { User } from '@authstack/client';
import { useId, useRef, useState, type FormEvent } from 'react';
import { useCore } from '../../context/provider';
import { errorCode } from '../../errors';
import { format } from '../../localization';
import { useUi } from '../../context/ui';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { EmailField, PasswordField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface LoginFormProps {
  /** Called once signed in. */
  onSignIn?: (user: User) => void;
  /** Start the session in this organization (the user must be a member). */
  organizationId?: string;
  initialEmail?: string;
  /** Links shown under the form, when given. */
  signUpUrl?: string;
  forgotPasswordUrl?: string;
}

/** Email and password sign-in. Errors (wrong password, unverified email, rate limit) are announced. */
export function LoginForm({ onSignIn, organizationId, initialEmail = '', signUpUrl, forgotPasswordUrl }: LoginFormProps) {
  const { client } = useCore();
  const { strings } = useUi();
  const titleId = useId();
  const [email, setEmail] = useState(initialEmail);
  const [password, setPassword] = useState('');
  const passwordRef = useRef<HTMLInputElement>(null);
  const signIn = useAction(() => client.auth.signIn({ email: email.trim(), password, organizationId }));
  const [resentTo, setResentTo] = useState<string | null>(null);
  const resend = useAction(async (address: string) => {
    await client.auth.resendVerification(address);
    return address;
  });
  const unverified = errorCode(signIn.cause) === 'email_not_verified';

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setResentTo(null);
    const user = await signIn.run();
    if (user) {
      onSignIn?.(user);
    } else {
      setPassword('');
      passwordRef.current?.focus();
    }
  };

  return (
    <Root name="authstack-login" as="section" aria-labelledby={titleId}>
      <form className="authstack-card authstack-form" onSubmit={onSubmit}>
        <h2 id={titleId}>{strings.signInTitle}</h2>
        <Alert>{signIn.error ?? resend.error}</Alert>
        <Alert tone="success">{resentTo ? format(strings.verificationResent, { email: resentTo }) : null}</Alert>
        {unverified && !resentTo ? (
          <Button
            variant="link"
            busy={resend.pending}
            onClick={async () => {
              const address = await resend.run(email.trim());
              if (address) setResentTo(address);
            }}
          >
            {strings.resendVerification}
          </Button>
        ) : null}
        <EmailField value={email} onChange={setEmail} autoComplete="username" />
        <PasswordField value={password} onChange={setPassword} inputRef={passwordRef} />
        <Button type="submit" busy={signIn.pending} busyLabel={strings.signInSubmitting}>
          {strings.signInSubmit}
        </Button>
        {signUpUrl || forgotPasswordUrl ? (
          <div className="authstack-links">
            {forgotPasswordUrl ? <a href={forgotPasswordUrl}>{strings.forgotPasswordLink}</a> : null}
            {signUpUrl ? <a href={signUpUrl}>{strings.noAccountLink}</a> : null}
          </div>
        ) : null}
      </form>
    </Root>
  );
}
