import { useId, useState } from 'react';
import { describeError } from '../../errors';
import { useInvitations } from '../../hooks/useInvitations';
import { useCan } from '../../hooks/usePermissions';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface PendingInvitationsProps {
  organizationId?: string;
}

/** Open invitations with their expiry; resend or revoke with `members:invite`. */
export function PendingInvitations({ organizationId }: PendingInvitationsProps) {
  const { strings } = useUi();
  const titleId = useId();
  const can = useCan();
  const list = useInvitations({ organizationId });
  const resend = useAction(list.resend);
  const revoke = useAction(list.revoke);
  const [resentTo, setResentTo] = useState<string | null>(null);
  const canManage = can('members:invite');

  return (
    <Root name="authstack-pending-invitations" as="section" aria-labelledby={titleId} aria-busy={!list.isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide">
        <h2 id={titleId}>{strings.pendingInvitations}</h2>
        <Alert>{list.error ? describeError(list.error, strings) : (resend.error ?? revoke.error)}</Alert>
        <Alert tone="success">{resentTo ? format(strings.invitationResent, { email: resentTo }) : null}</Alert>
        {!list.isLoaded ? (
          <p className="authstack-muted">{strings.loading}</p>
        ) : list.invitations.length === 0 ? (
          <p className="authstack-muted">{strings.pendingInvitationsEmpty}</p>
        ) : (
          <ul className="authstack-list">
            {list.invitations.map((inv) => (
              <li key={inv.id} className="authstack-list-item">
                <span>
                  <strong>{inv.email}</strong> <span className="authstack-badge">{inv.role}</span>
                  <br />
                  <span className="authstack-muted">
                    {inv.status === 'expired'
                      ? strings.invitationExpired
                      : format(strings.invitationExpires, { date: inv.expires_at.slice(0, 10) })}
                  </span>
                </span>
                {canManage ? (
                  <span className="authstack-actions">
                    <Button
                      variant="secondary"
                      aria-label={`${strings.invitationResend} ${inv.email}`}
                      busy={resend.pending}
                      onClick={async () => {
                        setResentTo(null);
                        if (await resend.run(inv.id)) setResentTo(inv.email);
                      }}
                    >
                      {strings.invitationResend}
                    </Button>
                    <Button
                      variant="secondary"
                      aria-label={`${strings.invitationCancel} ${inv.email}`}
                      busy={revoke.pending}
                      onClick={() => void revoke.run(inv.id)}
                    >
                      {strings.invitationCancel}
                    </Button>
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        )}
      </div>
    </Root>
  );
}
