import { useId, useState } from 'react';
import { describeError } from '../../errors';
import { useAuth } from '../../hooks/useAuth';
import { useOrganizationMembers } from '../../hooks/useOrganizationMembers';
import { useCan } from '../../hooks/usePermissions';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Modal } from '../../primitives/Modal';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';
import { MemberRoleManager } from './MemberRoleManager';

export interface MemberListProps {
  organizationId?: string;
  pageSize?: number;
}

function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 10);
}

/**
 * The organization's members. With `members:update` each role is a select; with
 * `members:remove` each member (but you) can be removed, confirmed in a dialog.
 */
export function MemberList({ organizationId, pageSize }: MemberListProps) {
  const { strings } = useUi();
  const titleId = useId();
  const { userId } = useAuth();
  const can = useCan();
  const list = useOrganizationMembers({ organizationId, pageSize });
  const remove = useAction(list.removeMember);
  const more = useAction(list.loadMore);
  const [removing, setRemoving] = useState<{ userId: string; name: string } | null>(null);
  const canUpdate = can('members:update');
  const canRemove = can('members:remove');

  return (
    <Root name="authstack-member-list" as="section" aria-labelledby={titleId} aria-busy={!list.isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide">
        <h2 id={titleId}>{strings.members}</h2>
        <Alert>{list.error ? describeError(list.error, strings) : (remove.error ?? more.error)}</Alert>
        {!list.organizationId ? (
          <p className="authstack-muted">{strings.organizationNoneSelected}</p>
        ) : !list.isLoaded ? (
          <p className="authstack-muted">{strings.loading}</p>
        ) : list.members.length === 0 ? (
          <p className="authstack-muted">{strings.memberListEmpty}</p>
        ) : (
          <table className="authstack-table">
            <thead>
              <tr>
                <th scope="col">{strings.memberColumnName}</th>
                <th scope="col">{strings.memberColumnRole}</th>
                <th scope="col">{strings.memberColumnJoined}</th>
                {canRemove ? (
                  <th scope="col">
                    <span className="authstack-visually-hidden">{strings.remove}</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.members.map((member) => {
                const display = member.user.name || member.user.email;
                const self = member.user.id === userId;
                return (
                  <tr key={member.membership_id}>
                    <th scope="row">
                      {display} {self ? <span className="authstack-muted">{strings.memberYou}</span> : null}
                      {member.user.name ? (
                        <>
                          <br />
                          <span className="authstack-muted">{member.user.email}</span>
                        </>
                      ) : null}
                    </th>
                    <td>
                      {canUpdate && !self ? (
                        <MemberRoleManager
                          organizationId={list.organizationId ?? undefined}
                          userId={member.user.id}
                          role={member.role}
                          memberName={display}
                        />
                      ) : (
                        member.role
                      )}
                    </td>
                    <td>{formatDate(member.joined_at)}</td>
                    {canRemove ? (
                      <td>
                        {self ? null : (
                          <Button
                            variant="secondary"
                            aria-label={format(strings.memberRemove, { name: display })}
                            busy={remove.pending}
                            onClick={() => setRemoving({ userId: member.user.id, name: display })}
                          >
                            {strings.remove}
                          </Button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <Modal open={removing !== null} onClose={() => setRemoving(null)} title={strings.memberRemoveTitle}>
          <p>{removing ? format(strings.memberRemoveConfirm, { name: removing.name }) : null}</p>
          <div className="authstack-actions">
            <Button variant="secondary" onClick={() => setRemoving(null)}>
              {strings.cancel}
            </Button>
            <Button
              variant="danger"
              onClick={() => {
                if (removing) void remove.run(removing.userId);
                setRemoving(null);
              }}
            >
              {strings.remove}
            </Button>
          </div>
        </Modal>
        {list.hasMore ? (
          <div className="authstack-actions">
            <Button variant="secondary" busy={more.pending || list.isLoadingMore} onClick={() => void more.run()}>
              {strings.memberLoadMore}
            </Button>
          </div>
        ) : null}
      </div>
    </Root>
  );
}
