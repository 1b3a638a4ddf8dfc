import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { FakeInstance } from '../../../../../test-support/fake-instance';
import { PASSWORD, renderWithAuth } from '../../../test/render';
import { SignupForm } from './SignupForm';

describe('<SignupForm>', () => {
  it('creates the account and says to check the inbox when verification is required', async () => {
    const user = userEvent.setup();
    const onSignUp = vi.fn();
    const { fake } = await renderWithAuth(<SignupForm onSignUp={onSignUp} />);
    await user.type(screen.getByLabelText('Name'), 'Ada');
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent('Check your inbox: we sent a link to ada@example.com'),
    );
    expect(onSignUp).toHaveBeenCalledWith(expect.objectContaining({ status: 'verification-required' }));
    expect(screen.getByRole('heading', { name: 'Create your account' })).toHaveFocus();
    expect(fake.outbox).toEqual([expect.objectContaining({ kind: 'verify_email', to: 'ada@example.com' })]);
    expect(fake.requests.find((r) => r.path === '/v1/auth/signup')?.body).toEqual({
      email: 'ada@example.com',
      password: PASSWORD,
      name: 'Ada',
    });
  });

  it('signs in at once when the instance does not require verification', async () => {
    const user = userEvent.setup();
    const onSignUp = vi.fn();
    const { client } = await renderWithAuth(<SignupForm onSignUp={onSignUp} withName={false} />, {
      fake: new FakeInstance({ requireEmailVerification: false }),
    });
    expect(screen.queryByLabelText('Name')).not.toBeInTheDocument();
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(onSignUp).toHaveBeenCalledWith(expect.objectContaining({ status: 'signed-in' })));
    expect(client.getState().status).toBe('signed-in');
  });

  it('explains a weak password with the server’s reason', async () => {
    const user = userEvent.setup();
    await renderWithAuth(<SignupForm />);
    const password = screen.getByLabelText('Password');
    // The browser would stop a too-short value; the server's policy is the authority.
    password.removeAttribute('minLength');
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(password, 'short{Enter}');
    await waitFor(() =>
      expect(screen.getByRole('alert')).toHaveTextContent('Choose a stronger password: password must be at least 8 characters.'),
    );
    expect(password).toHaveAccessibleDescription('At least 8 characters; avoid common passwords.');
  });
});
