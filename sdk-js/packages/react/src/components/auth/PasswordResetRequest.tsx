import { useId, useState, type FormEvent } from 'react';
import { useCore } from '../../context/provider';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { EmailField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface PasswordResetRequestProps {
  onRequested?: (email: string) => void;
  signInUrl?: string;
}

/**
 * Asks for a password-reset link. Says the same whether or not the address has an account,
 * as the API does.
 */
export function PasswordResetRequest({ onRequested, signInUrl }: PasswordResetRequestProps) {
  const { client } = useCore();
  const { strings } = useUi();
  const titleId = useId();
  const [email, setEmail] = useState('');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const request = useAction(async (address: string) => {
    await client.auth.requestPasswordReset(address);
    return address;
  });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const address = await request.run(email.trim());
    if (address) {
      setSentTo(address);
      onRequested?.(address);
    }
  };

  return (
    <Root name="authstack-reset-request" as="section" aria-labelledby={titleId}>
      <form className="authstack-card authstack-form" onSubmit={onSubmit}>
        <h2 id={titleId}>{strings.resetRequestTitle}</h2>
        <Alert>{request.error}</Alert>
        <Alert tone="success">{sentTo ? format(strings.resetRequestSent, { email: sentTo }) : null}</Alert>
        <EmailField value={email} onChange={setEmail} />
        <Button type="submit" busy={request.pending} busyLabel={strings.resetRequestSubmitting}>
          {strings.resetRequestSubmit}
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
