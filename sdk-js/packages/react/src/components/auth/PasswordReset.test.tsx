import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { acme, renderWithAuth } from '../../../test/render';
import { PasswordResetForm } from './PasswordResetForm';
import { PasswordResetRequest } from './PasswordResetRequest';

afterEach(() => window.history.replaceState(null, '', '/'));

describe('<PasswordResetRequest>', () => {
  it('says the same for known and unknown addresses', async () => {
    const user = userEvent.setup();
    const { fake } = await renderWithAuth(<PasswordResetRequest />, { fake: acme().fake });
    await user.type(screen.getByLabelText('Email address'), 'nobody@example.com{Enter}');
    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent('If an account exists for nobody@example.com, a reset link is on its way.'),
    );
    expect(fake.outbox).toHaveLength(0);
    await user.clear(screen.getByLabelText('Email address'));
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com{Enter}');
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('ada@example.com'));
    expect(fake.outbox).toEqual([expect.objectContaining({ kind: 'password_reset', to: 'ada@example.com' })]);
  });
});

describe('<PasswordResetForm>', () => {
  it('takes the token from the link, checks the repetition, and sets the password', async () => {
    const user = userEvent.setup();
    const { fake } = acme();
    fake.outbox.push({ kind: 'password_reset', to: 'ada@example.com', token: 'prt_abc' });
    window.history.replaceState(null, '', '/reset-password?token=prt_abc');
    await renderWithAuth(<PasswordResetForm />, { fake });
    await user.type(screen.getByLabelText('New password'), 'a new long password');
    await user.type(screen.getByLabelText('Repeat the new password'), 'a different one{Enter}');
    expect(screen.getByLabelText('Repeat the new password')).toHaveAccessibleDescription('The two passwords differ.');
    expect(screen.getByLabelText('Repeat the new password')).toBeInvalid();
    expect(fake.count('POST', '/v1/auth/password/reset')).toBe(0);

    await user.clear(screen.getByLabelText('Repeat the new password'));
    await user.type(screen.getByLabelText('Repeat the new password'), 'a new long password{Enter}');
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Your password was changed.'));
    expect(fake.requests.find((r) => r.path === '/v1/auth/password/reset')?.body).toEqual({
      token: 'prt_abc',
      password: 'a new long password',
    });
    expect(fake.users.get('ada@example.com')?.password).toBe('a new long password');
  });

  it('explains a used or expired link', async () => {
    const user = userEvent.setup();
    await renderWithAuth(<PasswordResetForm token="prt_spent" />, { fake: acme().fake });
    await user.type(screen.getByLabelText('New password'), 'a new long password');
    await user.type(screen.getByLabelText('Repeat the new password'), 'a new long password{Enter}');
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('This link is invalid, already used or expired.'));
  });

  it('says so when the link has no token', async () => {
    await renderWithAuth(<PasswordResetForm />, { fake: acme().fake });
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('This reset link is incomplete'));
    expect(screen.getByRole('button', { name: 'Set new password' })).toBeDisabled();
  });
});
