import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { acme, PASSWORD, renderWithAuth } from '../../../test/render';
import { AcceptInvitation } from './AcceptInvitation';

function invite(email: string, role = 'member') {
  const { fake, org } = acme();
  org.invitations.push({ id: 'invt_1', email, role, token: 'inv_tok', open: true });
  return { fake, org };
}

describe('<AcceptInvitation>', () => {
  it('creates the account and joins in one step when signed out', async () => {
    const user = userEvent.setup();
    const { fake, org } = invite('carol@example.com');
    const onAccepted = vi.fn();
    const { client } = await renderWithAuth(<AcceptInvitation token="inv_tok" onAccepted={onAccepted} />, { fake });
    await user.type(screen.getByLabelText('Name'), 'Carol');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('You joined Acme as member.'));
    expect(onAccepted).toHaveBeenCalledWith(expect.objectContaining({ role: 'member' }));
    expect(client.getState()).toMatchObject({ status: 'signed-in', organizationId: org.id, role: 'member' });
  });

  it('asks an existing account to sign in first, then joins', async () => {
    const user = userEvent.setup();
    const { fake, org } = invite('bob@example.com');
    org.members.delete(fake.users.get('bob@example.com')!.id);
    await renderWithAuth(<AcceptInvitation token="inv_tok" />, { fake });
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(screen.getByText(/An account exists for this address/)).toBeInTheDocument());
    await user.type(screen.getByLabelText('Email address'), 'bob@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await user.click(await screen.findByRole('button', { name: 'Accept invitation' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('You joined Acme as member.'));
    expect(org.members.get(fake.users.get('bob@example.com')!.id)).toBe('member');
  });

  it('refuses an invitation meant for someone else, in plain words', async () => {
    const user = userEvent.setup();
    const { fake } = invite('carol@example.com');
    await renderWithAuth(<AcceptInvitation token="inv_tok" />, { fake, signIn: 'ada@example.com' });
    await user.click(screen.getByRole('button', { name: 'Accept invitation' }));
    await waitFor(() =>
      expect(screen.getByRole('alert')).toHaveTextContent(
        'You are not allowed to do this: this invitation was sent to a different email address.',
      ),
    );
  });
});
