import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { acme, renderWithAuth } from '../../../test/render';
import { PermissionEditor } from './PermissionEditor';
import { RoleManager } from './RoleManager';

describe('<RoleManager>', () => {
  it('creates a custom role with chosen permissions, edits and deletes it', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    const onRoleCreated = vi.fn();
    await renderWithAuth(<RoleManager onRoleCreated={onRoleCreated} />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    expect(await screen.findByText('Viewer')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Role name'), 'Auditor');
    await user.type(screen.getByLabelText('Key'), 'auditor');
    const editor = screen.getByRole('group', { name: 'Permissions' });
    await user.click(within(editor).getByRole('checkbox', { name: 'audit:read' }));
    await user.click(within(editor).getByRole('checkbox', { name: 'members:read' }));
    await user.click(screen.getByRole('button', { name: 'Create role' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Role Auditor created.'));
    expect(onRoleCreated).toHaveBeenCalledWith(expect.objectContaining({ key: 'auditor', permissions: ['audit:read', 'members:read'] }));
    expect(org.roles).toEqual([expect.objectContaining({ key: 'auditor', permissions: ['audit:read', 'members:read'] })]);

    const own = await screen.findByRole('group', { name: 'Permissions of Auditor' });
    await user.click(within(own).getByRole('checkbox', { name: 'roles:read' }));
    await waitFor(() => expect(org.roles[0]?.permissions).toEqual(['audit:read', 'members:read', 'roles:read']));
    await user.click(screen.getByRole('button', { name: 'Delete role Auditor' }));
    await waitFor(() => expect(screen.queryByRole('group', { name: 'Permissions of Auditor' })).not.toBeInTheDocument());
    expect(org.roles).toEqual([]);
  });

  it('explains a duplicate key', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    await renderWithAuth(<RoleManager />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    await screen.findByText('Viewer');
    await user.type(screen.getByLabelText('Role name'), 'Second admin');
    await user.type(screen.getByLabelText('Key'), 'admin{Enter}');
    await waitFor(() =>
      expect(screen.getAllByRole('alert').map((a) => a.textContent).join(' ')).toContain(
        'This conflicts with something that exists: a role with key admin exists.',
      ),
    );
  });

  it('is read-only and shows the API’s refusal to a member without roles:manage', async () => {
    const { fake, org } = acme();
    org.members.set(fake.users.get('bob@example.com')!.id, 'member');
    await renderWithAuth(<RoleManager />, { fake, signIn: 'bob@example.com', organizationId: org.id });
    expect(await screen.findByText('Viewer')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Create role' })).not.toBeInTheDocument();
  });
});

describe('<PermissionEditor>', () => {
  it('disables permissions the user does not hold (the API would refuse them)', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    org.members.set(fake.users.get('ada@example.com')!.id, 'admin');
    const onChange = vi.fn();
    function Harness() {
      const [value, setValue] = useState<string[]>(['members:read']);
      return (
        <PermissionEditor
          value={value}
          onChange={(v) => {
            onChange(v);
            setValue(v);
          }}
          available={['members:read', 'members:invite', 'organization:delete'].map((name) => ({ name, builtin: true }))}
        />
      );
    }
    await renderWithAuth(<Harness />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    await waitFor(() => expect(screen.getByRole('checkbox', { name: 'organization:delete' })).toBeDisabled());
    expect(screen.getByRole('checkbox', { name: 'members:read' })).toBeChecked();
    await user.click(screen.getByRole('checkbox', { name: 'members:invite' }));
    expect(onChange).toHaveBeenLastCalledWith(['members:invite', 'members:read']);
    await user.click(screen.getByRole('checkbox', { name: 'members:read' }));
    expect(onChange).toHaveBeenLastCalledWith(['members:invite']);
  });
});
