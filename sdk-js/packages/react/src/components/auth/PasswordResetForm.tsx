import { useId, useState, type FormEvent } from 'react';
import { useCore } from '../../context/provider';
import { useUi } from '../../context/ui';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { PasswordField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';
import { useLinkToken } from './token';

export interface PasswordResetFormProps {
  /** The reset link's token; read from `?token=` when absent. */
  token?: string;
  onReset?: () => void;
  signInUrl?: string;
}

/** Sets a new password with the emailed reset link's token. */
export function PasswordResetForm({ token: given, onReset, signInUrl }: PasswordResetFormProps) {
  const { client } = useCore();
  const { strings } = useUi();
  const titleId = useId();
  const token = useLinkToken(given);
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState(false);
  const [done, setDone] = useState(false);
  const reset = useAction(async () => {
    await client.auth.resetPassword({ token: token!, password });
    return true;
  });

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (password !== confirm) {
      setMismatch(true);
      return;
    }
    setMismatch(false);
    if (await reset.run()) {
      setDone(true);
      onReset?.();
    }
  };

  return (
    <Root name="authstack-reset" as="section" aria-labelledby={titleId}>
      <form className="authstack-card authstack-form" onSubmit={onSubmit}>
        <h2 id={titleId}>{strings.resetTitle}</h2>
        <Alert>{token === null ? strings.resetMissingToken : reset.error}</Alert>
        <Alert tone="success">{done ? strings.resetDone : null}</Alert>
        {done ? (
          signInUrl ? (
            <a href={signInUrl}>{strings.signInTitle}</a>
          ) : null
        ) : (
          <>
            <PasswordField label={strings.resetNewPassword} name="new-password" value={password} onChange={setPassword} fresh />
            <PasswordField
              label={strings.resetConfirmPassword}
              name="confirm-password"
              error={mismatch ? strings.resetMismatch : undefined}
              value={confirm}
              onChange={setConfirm}
            />
            <Button type="submit" busy={reset.pending} busyLabel={strings.resetSubmitting} disabled={!token}>
              {strings.resetSubmit}
            </Button>
          </>
        )}
      </form>
    </Root>
  );
}
