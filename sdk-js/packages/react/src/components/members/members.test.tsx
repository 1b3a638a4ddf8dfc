import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { acme, renderWithAuth } from '../../../test/render';
import { InviteMemberModal } from './InviteMemberModal';
import { MemberList } from './MemberList';
import { MemberRoleManager } from './MemberRoleManager';
import { PendingInvitations } from './PendingInvitations';

describe('<MemberList>', () => {
  it('lists members; an owner changes roles and removes after confirming', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    const bob = fake.users.get('bob@example.com')!;
    await renderWithAuth(<MemberList />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    const table = await screen.findByRole('table');
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('rowheader').textContent)).toEqual([
      'Ada (you)ada@example.com',
      'Bob bob@example.com',
    ]);
    // Nobody changes their own role from the list.
    expect(within(rows[0]!).queryByRole('combobox')).not.toBeInTheDocument();
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of Bob' }), 'member');
    await waitFor(() => expect(org.members.get(bob.id)).toBe('member'));
    expect(screen.getByRole('combobox', { name: 'Role of Bob' })).toHaveValue('member');

    // A confirmation dialog: Cancel (focus returns to the button), then Remove.
    const removeBob = screen.getByRole('button', { name: 'Remove Bob' });
    await user.click(removeBob);
    const dialog = screen.getByRole('dialog', { name: 'Remove member' });
    expect(dialog).toHaveTextContent('Remove Bob from the organization?');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(removeBob).toHaveFocus();
    expect(org.members.has(bob.id)).toBe(true);
    await user.keyboard('{Enter}');
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Remove' }));
    await waitFor(() => expect(screen.queryByText('bob@example.com')).not.toBeInTheDocument());
    expect(org.members.has(bob.id)).toBe(false);
  });

  it('is read-only for a viewer and pages through large organizations', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    for (let i = 0; i < 3; i++) {
      const extra = fake.addUser(`m${i}@example.com`);
      org.members.set(extra.id, 'member');
    }
    await renderWithAuth(<MemberList pageSize={2} />, { fake, signIn: 'bob@example.com', organizationId: org.id });
    await screen.findByRole('table');
    expect(screen.queryByRole('combobox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Remove/ })).not.toBeInTheDocument();
    expect(screen.getAllByRole('row')).toHaveLength(3);
    await user.click(screen.getByRole('button', { name: 'Show more members' }));
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(5));
    await user.click(screen.getByRole('button', { name: 'Show more members' }));
    await waitFor(() => expect(screen.getAllByRole('row')).toHaveLength(6));
    expect(screen.queryByRole('button', { name: 'Show more members' })).not.toBeInTheDocument();
  });
});

describe('<MemberRoleManager>', () => {
  it('announces the guardrail when granting more than the caller holds', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    const carol = fake.addUser('carol@example.com');
    org.members.set(fake.users.get('ada@example.com')!.id, 'admin');
    org.members.set(carol.id, 'member');
    await renderWithAuth(<MemberRoleManager userId={carol.id} role="member" memberName="Carol" />, {
      fake,
      signIn: 'ada@example.com',
      organizationId: org.id,
    });
    await screen.findByRole('option', { name: 'Owner' });
    await user.selectOptions(screen.getByRole('combobox', { name: 'Role of Carol' }), 'owner');
    await waitFor(() =>
      expect(screen.getByRole('alert')).toHaveTextContent(
        'You are not allowed to do this: you cannot give the role owner: it includes permissions you do not hold (organization:delete, billing:manage).',
      ),
    );
    expect(org.members.get(carol.id)).toBe('member');
  });
});

describe('<InviteMemberModal>', () => {
  it('opens from its button, invites with a role, announces it, and gives focus back', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    const onInvited = vi.fn();
    await renderWithAuth(
      <>
        <InviteMemberModal onInvited={onInvited} />
        <PendingInvitations />
      </>,
      { fake, signIn: 'ada@example.com', organizationId: org.id },
    );
    await screen.findByText('No pending invitations.');
    const opener = screen.getByRole('button', { name: 'Invite member' });
    await user.click(opener);
    const dialog = screen.getByRole('dialog', { name: 'Invite a member' });
    const email = within(dialog).getByLabelText('Email address to invite');
    expect(email).toHaveFocus();
    await within(dialog).findByRole('option', { name: 'Viewer' });
    await user.selectOptions(within(dialog).getByLabelText('Role'), 'viewer');
    await user.type(email, 'carol@example.com{Enter}');
    await waitFor(() => expect(within(dialog).getByRole('status')).toHaveTextContent('Invitation sent to carol@example.com.'));
    expect(onInvited).toHaveBeenCalledWith(expect.objectContaining({ email: 'carol@example.com', role: 'viewer' }));
    expect(fake.outbox).toEqual([expect.objectContaining({ kind: 'invitation', to: 'carol@example.com' })]);
    // The pending list refreshed on its own.
    expect(await screen.findByText('carol@example.com')).toBeInTheDocument();

    await user.type(email, 'carol@example.com{Enter}');
    await waitFor(() =>
      expect(within(dialog).getByRole('alert')).toHaveTextContent('this address already has a pending invitation; resend it instead'),
    );
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
  });

  it('works controlled', async () => {
    const onClose = vi.fn();
    const user = userEvent.setup();
    const { fake, org } = acme();
    await renderWithAuth(<InviteMemberModal open onClose={onClose} />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    expect(screen.queryByRole('button', { name: 'Invite member' })).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Close' }));
    expect(onClose).toHaveBeenCalled();
  });
});

describe('<PendingInvitations>', () => {
  it('resends and revokes', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    org.invitations.push({ id: 'invt_9', email: 'dan@example.com', role: 'member', token: 'inv_old', open: true });
    await renderWithAuth(<PendingInvitations />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    expect(await screen.findByText('dan@example.com')).toBeInTheDocument();
    expect(screen.getByText('expires 2026-01-09')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Resend dan@example.com' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Invitation to dan@example.com sent again.'));
    expect(fake.outbox.at(-1)).toMatchObject({ kind: 'invitation', to: 'dan@example.com' });
    await user.click(screen.getByRole('button', { name: 'Revoke dan@example.com' }));
    expect(await screen.findByText('No pending invitations.')).toBeInTheDocument();
  });

  it('offers no actions without members:invite', async () => {
    const { fake, org } = acme();
    org.invitations.push({ id: 'invt_9', email: 'dan@example.com', role: 'member', token: 'inv_old', open: true });
    await renderWithAuth(<PendingInvitations />, { fake, signIn: 'bob@example.com', organizationId: org.id });
    expect(await screen.findByText('dan@example.com')).toBeInTheDocument();
    expect(screen.queryByRole('button')).not.toBeInTheDocument();
  });
});
