import { useId, useState, type FormEvent } from 'react';
import { useAuth } from '../../hooks/useAuth';
import { useUser } from '../../hooks/useUser';
import { useUi } from '../../context/ui';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field, PasswordField } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface UserProfileProps {
  /** Called after signing out. */
  onSignOut?: () => void;
  /** Show the change-password form (default true, for accounts that have a password). */
  withPasswordChange?: boolean;
}

/** The signed-in user's account: name, email, password, sign-out. */
export function UserProfile({ onSignOut, withPasswordChange = true }: UserProfileProps) {
  const { strings } = useUi();
  const { signOut } = useAuth();
  const { user, isLoaded, update, changePassword } = useUser();
  const titleId = useId();
  const [name, setName] = useState<string | null>(null);
  const [savedName, setSavedName] = useState(false);
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [passwordChanged, setPasswordChanged] = useState(false);
  const save = useAction(async (value: string) => update({ name: value.trim() === '' ? null : value.trim() }));
  const change = useAction(async () => {
    await changePassword({ currentPassword, newPassword });
    return true;
  });
  const leave = useAction(async () => {
    await signOut();
    return true;
  });

  if (!isLoaded) {
    return (
      <Root name="authstack-profile" aria-busy="true">
        <p className="authstack-muted">{strings.loading}</p>
      </Root>
    );
  }
  if (!user) {
    return (
      <Root name="authstack-profile">
        <p>{strings.signedOutNotice}</p>
      </Root>
    );
  }

  const onSaveName = async (event: FormEvent) => {
    event.preventDefault();
    setSavedName(false);
    if (await save.run(name ?? user.name ?? '')) {
      setSavedName(true);
      setName(null);
    }
  };
  const onChangePassword = async (event: FormEvent) => {
    event.preventDefault();
    setPasswordChanged(false);
    if (await change.run()) {
      setPasswordChanged(true);
      setCurrentPassword('');
      setNewPassword('');
    }
  };

  return (
    <Root name="authstack-profile" as="section" aria-labelledby={titleId}>
      <div className="authstack-card authstack-card--wide authstack-form">
        <h2 id={titleId}>{strings.profileTitle}</h2>
        <p>
          {user.email}{' '}
          <span className="authstack-badge">
            {user.email_verified ? strings.profileEmailVerified : strings.profileEmailUnverified}
          </span>
        </p>
        <form className="authstack-form" onSubmit={onSaveName}>
          <Alert>{save.error}</Alert>
          <Alert tone="success">{savedName ? strings.saved : null}</Alert>
          <Field
            label={strings.name}
            name="name"
            autoComplete="name"
            value={name ?? user.name ?? ''}
            onChange={(e) => setName(e.target.value)}
          />
          <div className="authstack-actions">
            <Button type="submit" variant="secondary" busy={save.pending} busyLabel={strings.saving}>
              {strings.save}
            </Button>
          </div>
        </form>
        {withPasswordChange && user.has_password ? (
          <form className="authstack-form" onSubmit={onChangePassword}>
            <h3>{strings.profileChangePassword}</h3>
            <Alert>{change.error}</Alert>
            <Alert tone="success">{passwordChanged ? strings.profilePasswordChanged : null}</Alert>
            <PasswordField
              label={strings.profileCurrentPassword}
              name="current-password"
              value={currentPassword}
              onChange={setCurrentPassword}
            />
            <PasswordField
              label={strings.profileNewPassword}
              name="new-password"
              value={newPassword}
              onChange={setNewPassword}
              fresh
            />
            <div className="authstack-actions">
              <Button type="submit" variant="secondary" busy={change.pending} busyLabel={strings.saving}>
                {strings.profileChangePassword}
              </Button>
            </div>
          </form>
        ) : null}
        <Alert>{leave.error}</Alert>
        <div className="authstack-actions">
          <Button
            variant="secondary"
            busy={leave.pending}
            onClick={async () => {
              if (await leave.run()) onSignOut?.();
            }}
          >
            {strings.profileSignOut}
          </Button>
        </div>
      </div>
    </Root>
  );
}
