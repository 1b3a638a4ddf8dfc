import type { Role } from '@authstack/client';
import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../../errors';
import { useCan, usePermissions } from '../../hooks/usePermissions';
import { useRoles } from '../../hooks/useRoles';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';
import { PermissionEditor } from './PermissionEditor';

export interface RoleManagerProps {
  organizationId?: string;
  onRoleCreated?: (role: Role) => void;
}

function CustomRole({ role, organizationId }: { role: Role; organizationId?: string }) {
  const { strings } = useUi();
  const { updateRole, deleteRole, availablePermissions } = useRoles({ organizationId });
  const { role: myRole } = usePermissions();
  const can = useCan();
  const update = useAction(updateRole);
  const remove = useAction(deleteRole);
  const editable = can('roles:manage') && myRole !== role.key;
  return (
    <li className="authstack-list-item" style={{ flexDirection: 'column', alignItems: 'stretch' }}>
      <span>
        <strong>{role.name}</strong> <span className="authstack-badge">{strings.roleCustom}</span>{' '}
        <code className="authstack-muted">{role.key}</code>
        {role.description ? <span className="authstack-muted"> — {role.description}</span> : null}
      </span>
      <Alert>{update.error ?? remove.error}</Alert>
      {editable ? (
        <>
          <PermissionEditor
            legend={format(strings.roleEditPermissions, { name: role.name })}
            value={role.permissions}
            available={availablePermissions}
            disabled={update.pending}
            onChange={(permissions) => void update.run(role.id!, { permissions })}
          />
          <div className="authstack-actions">
            <Button
              variant="secondary"
              aria-label={format(strings.roleDelete, { name: role.name })}
              busy={remove.pending}
              onClick={() => void remove.run(role.id!)}
            >
              {strings.delete}
            </Button>
          </div>
        </>
      ) : (
        <span className="authstack-muted">{role.permissions.join(', ') || strings.permissionsNone}</span>
      )}
    </li>
  );
}

/**
 * The organization's roles and their permissions; with `roles:manage`, create custom roles,
 * change their permissions and delete unused ones.
 */
export function RoleManager({ organizationId, onRoleCreated }: RoleManagerProps) {
  const { strings } = useUi();
  const titleId = useId();
  const { roles, availablePermissions, isLoaded, error, createRole } = useRoles({ organizationId });
  const can = useCan();
  const [key, setKey] = useState('');
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [permissions, setPermissions] = useState<string[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const create = useAction(createRole);

  const onCreate = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    const role = await create.run({
      key: key.trim(),
      name: name.trim(),
      description: description.trim() || undefined,
      permissions,
    });
    if (role) {
      setCreated(role.name);
      setKey('');
      setName('');
      setDescription('');
      setPermissions([]);
      onRoleCreated?.(role);
    }
  };

  return (
    <Root name="authstack-role-manager" as="section" aria-labelledby={titleId} aria-busy={!isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide authstack-form">
        <h2 id={titleId}>{strings.roles}</h2>
        <Alert>{error ? describeError(error, strings) : null}</Alert>
        {!isLoaded ? (
          <p className="authstack-muted">{strings.loading}</p>
        ) : (
          <ul className="authstack-list">
            {roles.map((role) =>
              role.builtin ? (
                <li key={role.key} className="authstack-list-item">
                  <span>
                    <strong>{role.name}</strong> <span className="authstack-badge">{strings.roleBuiltin}</span>
                    {role.description ? (
                      <>
                        <br />
                        <span className="authstack-muted">{role.description}</span>
                      </>
                    ) : null}
                  </span>
                </li>
              ) : (
                <CustomRole key={role.key} role={role} organizationId={organizationId} />
              ),
            )}
          </ul>
        )}
        {can('roles:manage') ? (
          <form className="authstack-form" onSubmit={onCreate}>
            <h3>{strings.roleCreateTitle}</h3>
            <Alert>{create.error}</Alert>
            <Alert tone="success">{created ? format(strings.roleCreated, { name: created }) : null}</Alert>
            <Field label={strings.roleName} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
            <Field
              label={strings.roleKey}
              required
              pattern="[a-z][a-z0-9_\-]{1,47}"
              hint={strings.roleKeyHint}
              value={key}
              onChange={(e) => setKey(e.target.value)}
            />
            <Field
              label={`${strings.roleDescription} ${strings.optional}`}
              maxLength={500}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
            />
            <PermissionEditor value={permissions} onChange={setPermissions} available={availablePermissions} />
            <div className="authstack-actions">
              <Button type="submit" busy={create.pending} busyLabel={strings.saving}>
                {strings.roleCreate}
              </Button>
            </div>
          </form>
        ) : null}
      </div>
    </Root>
  );
}
