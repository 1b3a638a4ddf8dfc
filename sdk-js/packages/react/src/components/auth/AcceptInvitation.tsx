import type { AcceptedInvitation } from '@authstack/client';
import { useId, useState, type FormEvent } from 'react';
import { errorCode } from '../../errors';
import { useAuth } from '../../hooks/useAuth';
import { useInvitations } from '../../hooks/useInvitations';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field, PasswordField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';
import { LoginForm } from './LoginForm';
import { useLinkToken } from './token';

export interface AcceptInvitationProps {
  /** The invitation link's token; read from `?token=` when absent. */
  token?: string;
  /** Called once joined; with a new account, the user is then signed in. */
  onAccepted?: (result: AcceptedInvitation) => void;
}

/**
 * The page an invitation link opens. Signed in: one button to join. Signed out: choose a
 * password to create the account and join in one step; if the address already has an account,
 * sign in here first.
 */
export function AcceptInvitation({ token: given, onAccepted }: AcceptInvitationProps) {
  const { strings } = useUi();
  const { isLoaded, isSignedIn } = useAuth();
  const { accept } = useInvitations({ enabled: false });
  const titleId = useId();
  const token = useLinkToken(given);
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [accepted, setAccepted] = useState<AcceptedInvitation | null>(null);
  const join = useAction(() =>
    accept({ token: token!, ...(isSignedIn ? {} : { password, name: name.trim() || undefined }) }),
  );
  const mustSignIn = !isSignedIn && errorCode(join.cause) === 'unauthorized';

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const result = await join.run();
    if (result) {
      setAccepted(result);
      onAccepted?.(result);
    }
  };

  const title = accepted
    ? format(strings.acceptInvitationTitle, { organization: accepted.organization.name })
    : strings.acceptInvitationIntro;
  return (
    <Root name="authstack-accept-invitation" as="section" aria-labelledby={titleId}>
      <div className="authstack-card authstack-form">
        <h2 id={titleId}>{title}</h2>
        <Alert>{token === null ? strings.acceptInvitationMissingToken : mustSignIn ? null : join.error}</Alert>
        <Alert tone="success">
          {accepted
            ? format(strings.acceptInvitationDone, { organization: accepted.organization.name, role: accepted.role })
            : null}
        </Alert>
        {accepted || !token || !isLoaded ? null : mustSignIn ? (
          <>
            <p>{strings.acceptInvitationSignInFirst}</p>
            <LoginForm onSignIn={() => join.reset()} />
          </>
        ) : (
          <form className="authstack-form" onSubmit={onSubmit}>
            {isSignedIn ? null : (
              <>
                <p className="authstack-muted">{strings.acceptInvitationNewAccount}</p>
                <Field label={strings.name} name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
                <PasswordField value={password} onChange={setPassword} fresh />
              </>
            )}
            <Button type="submit" busy={join.pending} busyLabel={strings.acceptInvitationSubmitting}>
              {strings.acceptInvitationSubmit}
            </Button>
          </form>
        )}
      </div>
    </Root>
  );
}
