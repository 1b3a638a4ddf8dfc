// Teammates of the account: the platform organization's members, invitations and roles.
import { InviteMemberModal, MemberList, PendingInvitations, PermissionGate } from '@authstack/react';
import { useDashboard } from '../account/context';
import { EmptyState } from '../ui/feedback';
import { Link } from '../shell/router';

export function TeamPage() {
  const { organizationId } = useDashboard();
  if (!organizationId) {
    return (
      <EmptyState title="No account selected">
        <p>
          <Link to="/accounts">Create or choose an account</Link> to invite teammates.
        </p>
      </EmptyState>
    );
  }
  return (
    <section aria-labelledby="team-title" className="page">
      <h1 id="team-title">Team</h1>
      <p>Owners hold every permission; admins run instances and keys; members and viewers read.</p>
      <PermissionGate permission="members:invite">
        <InviteMemberModal />
      </PermissionGate>
      <MemberList />
      {/* <PendingInvitations> has its own "Pending invitations" heading. */}
      <PermissionGate permission="members:invite">
        <PendingInvitations />
      </PermissionGate>
    </section>
  );
}
