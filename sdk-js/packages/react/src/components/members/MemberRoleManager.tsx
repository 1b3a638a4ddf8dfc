import { useId } from 'react';
import { useOrganizationMembers } from '../../hooks/useOrganizationMembers';
import { useRoles } from '../../hooks/useRoles';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface MemberRoleManagerProps {
  userId: string;
  /** The member's current role key. */
  role: string;
  /** Shown in the accessible label, e.g. the member's name. */
  memberName?: string;
  organizationId?: string;
  onChange?: (role: string) => void;
}

/**
 * Changes one member's role (`members:update`). The list holds the organization's built-in and
 * custom roles; the API refuses roles with permissions the caller does not hold, and the last
 * owner's demotion, and the reason is announced.
 */
export function MemberRoleManager({ userId, role, memberName, organizationId, onChange }: MemberRoleManagerProps) {
  const { strings } = useUi();
  const id = useId();
  const { roles } = useRoles({ organizationId });
  const { updateRole } = useOrganizationMembers({ organizationId });
  const change = useAction(updateRole);
  const options = roles.some((r) => r.key === role) ? roles : [{ key: role, name: role }, ...roles];

  return (
    <Root name="authstack-member-role" as="span">
      <label htmlFor={id} className="authstack-visually-hidden">
        {format(strings.memberRoleLabel, { name: memberName ?? userId })}
      </label>
      <select
        id={id}
        className="authstack-select"
        value={role}
        disabled={change.pending}
        aria-busy={change.pending || undefined}
        onChange={async (event) => {
          const next = event.target.value;
          if (await change.run(userId, next)) onChange?.(next);
        }}
      >
        {options.map((r) => (
          <option key={r.key} value={r.key}>
            {r.name}
          </option>
        ))}
      </select>
      <Alert>{change.error}</Alert>
    </Root>
  );
}
