import type { Invitation } from '@authstack/client';
import { useId, useState, type FormEvent } from 'react';
import { useInvitations } from '../../hooks/useInvitations';
import { useRoles } from '../../hooks/useRoles';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field } from '../../primitives/Field';
import { Modal } from '../../primitives/Modal';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface InviteMemberModalProps {
  /** Controlled: whether the dialog is open. Leave out to get a button that opens it. */
  open?: boolean;
  onClose?: () => void;
  organizationId?: string;
  /** The role preselected (default `member`). */
  defaultRole?: string;
  onInvited?: (invitation: Invitation) => void;
}

/**
 * A dialog to invite someone by email with a role (`members:invite`). Focus moves to the email
 * field, Escape closes, and focus returns to what opened it; the outcome is announced.
 */
export function InviteMemberModal({ open, onClose, organizationId, defaultRole = 'member', onInvited }: InviteMemberModalProps) {
  const { strings } = useUi();
  const roleId = useId();
  const [ownOpen, setOwnOpen] = useState(false);
  const controlled = open !== undefined;
  const isOpen = controlled ? open : ownOpen;
  const { invite } = useInvitations({ organizationId, enabled: false });
  const { roles } = useRoles({ organizationId });
  const [email, setEmail] = useState('');
  const [role, setRole] = useState(defaultRole);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const send = useAction(invite);

  const close = () => {
    send.reset();
    setSentTo(null);
    if (controlled) onClose?.();
    else setOwnOpen(false);
  };
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setSentTo(null);
    const invitation = await send.run({ email: email.trim(), role });
    if (invitation) {
      setSentTo(invitation.email);
      setEmail('');
      onInvited?.(invitation);
    }
  };
  const roleOptions = roles.length > 0 ? roles : [{ key: defaultRole, name: defaultRole }];

  return (
    <Root name="authstack-invite" as="span">
      {controlled ? null : (
        <Button onClick={() => setOwnOpen(true)} aria-haspopup="dialog">
          {strings.inviteMember}
        </Button>
      )}
      <Modal open={isOpen} onClose={close} title={strings.inviteTitle}>
        <form className="authstack-form" onSubmit={onSubmit}>
          <Alert>{send.error}</Alert>
          <Alert tone="success">{sentTo ? format(strings.inviteSent, { email: sentTo }) : null}</Alert>
          <Field
            label={strings.inviteEmail}
            type="email"
            name="invite-email"
            autoComplete="off"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <div className="authstack-field">
            <label className="authstack-label" htmlFor={roleId}>
              {strings.inviteRole}
            </label>
            <select id={roleId} className="authstack-select" value={role} onChange={(e) => setRole(e.target.value)}>
              {roleOptions.map((r) => (
                <option key={r.key} value={r.key}>
                  {r.name}
                </option>
              ))}
            </select>
          </div>
          <div className="authstack-actions">
            <Button variant="secondary" onClick={close}>
              {strings.close}
            </Button>
            <Button type="submit" busy={send.pending} busyLabel={strings.inviteSubmitting}>
              {strings.inviteSubmit}
            </Button>
          </div>
        </form>
      </Modal>
    </Root>
  );
}
