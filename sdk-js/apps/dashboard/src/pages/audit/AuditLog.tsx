// The audit page in the signed-in shell: actors shown by the email of the account's members.
import { useOrganizationMembers } from '@authstack/react';
import { useMemo } from 'react';
import { AuditPage } from './AuditPage';

export function AuditLog() {
  // Needs `members:read`; without it (or while loading) actors show as user ids.
  const { members } = useOrganizationMembers({ pageSize: 100 });
  const emails = useMemo(() => new Map(members.map((m) => [m.user.id, m.user.email])), [members]);
  return <AuditPage members={emails} />;
}
