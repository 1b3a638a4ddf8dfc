import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { acme, PASSWORD, renderWithAuth } from '../../../test/render';
import { UserProfile } from './UserProfile';

describe('<UserProfile>', () => {
  it('renames, changes the password (with errors in plain words) and signs out', async () => {
    const user = userEvent.setup();
    const onSignOut = vi.fn();
    const { fake, client } = await renderWithAuth(<UserProfile onSignOut={onSignOut} />, { fake: acme().fake, signIn: 'ada@example.com' });
    expect(screen.getByText('ada@example.com')).toBeInTheDocument();
    expect(screen.getByText('verified')).toBeInTheDocument();
    const name = screen.getByLabelText('Name');
    expect(name).toHaveValue('Ada');
    await user.clear(name);
    await user.type(name, 'Ada Lovelace');
    await user.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(fake.users.get('ada@example.com')?.name).toBe('Ada Lovelace'));
    await waitFor(() => expect(screen.getByLabelText('Name')).toHaveValue('Ada Lovelace'));

    await user.type(screen.getByLabelText('Current password'), 'not it');
    await user.type(screen.getByLabelText('New password'), 'another long password');
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(screen.getAllByRole('alert').some((a) => a.textContent === 'The email or password is incorrect.')).toBe(true));
    await user.clear(screen.getByLabelText('Current password'));
    await user.type(screen.getByLabelText('Current password'), PASSWORD);
    await user.click(screen.getByRole('button', { name: 'Change password' }));
    await waitFor(() => expect(fake.users.get('ada@example.com')?.password).toBe('another long password'));

    await user.click(screen.getByRole('button', { name: 'Sign out' }));
    await waitFor(() => expect(onSignOut).toHaveBeenCalled());
    expect(client.getState().status).toBe('signed-out');
    expect(screen.getByText('Sign in to continue.')).toBeInTheDocument();
  });
});
