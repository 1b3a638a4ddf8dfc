import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { json } from '../../../../../test-support/fake-instance';
import { acme, PASSWORD, renderWithAuth } from '../../../test/render';
import { useAuth } from '../../hooks/useAuth';
import { LoginForm } from './LoginForm';

function WhoAmI() {
  const { isLoaded, isSignedIn, user } = useAuth();
  return <p data-testid="who">{!isLoaded ? 'loading' : isSignedIn ? user?.email : 'signed out'}</p>;
}

describe('<LoginForm>', () => {
  it('signs in with the keyboard and reports the user', async () => {
    const user = userEvent.setup();
    const onSignIn = vi.fn();
    const { fake } = await renderWithAuth(
      <>
        <LoginForm onSignIn={onSignIn} />
        <WhoAmI />
      </>,
      { fake: acme().fake },
    );
    expect(screen.getByTestId('who')).toHaveTextContent('signed out');
    expect(screen.getByRole('region', { name: 'Sign in' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(onSignIn).toHaveBeenCalledWith(expect.objectContaining({ email: 'ada@example.com' })));
    expect(screen.getByTestId('who')).toHaveTextContent('ada@example.com');
    expect(fake.requests.find((r) => r.path === '/v1/auth/login')?.body).toEqual({ email: 'ada@example.com', password: PASSWORD });
  });

  it('announces a wrong password in plain words, clears and refocuses the password', async () => {
    const user = userEvent.setup();
    const { errors } = await renderWithAuth(<LoginForm />, { fake: acme().fake });
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong password{Enter}');
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('The email or password is incorrect.'));
    expect(screen.getByLabelText('Password')).toHaveValue('');
    expect(screen.getByLabelText('Password')).toHaveFocus();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'invalid_credentials', status: 401 });
  });

  it('explains unverified emails and rate limits', async () => {
    const user = userEvent.setup();
    const { fake } = acme();
    fake.addUser('new@example.com', PASSWORD, null, false);
    await renderWithAuth(<LoginForm />, { fake });
    await user.type(screen.getByLabelText('Email address'), 'new@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Verify your email address first'));
    await user.click(screen.getByRole('button', { name: 'Send the verification link again' }));
    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent('If new@example.com awaits verification, a new link is on its way.'),
    );
    expect(fake.requests.find((r) => r.path === '/v1/auth/email/verify/resend')?.body).toEqual({ email: 'new@example.com' });

    fake.failNext('POST', /^\/v1\/auth\/login$/, () =>
      json(429, { error: 'rate_limited', message: 'too many requests; retry later' }, { 'retry-after': '30' }),
    );
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('Too many attempts. Wait a moment and try again.'));
  });

  it('shows that it is working and ignores a second submit meanwhile', async () => {
    const user = userEvent.setup();
    const { fake } = acme();
    let release!: () => void;
    fake.failNext('POST', /^\/v1\/auth\/login$/, async () => {
      await new Promise<void>((resolve) => (release = resolve));
      return json(200, fake.startSession('ada@example.com'));
    });
    await renderWithAuth(<LoginForm />, { fake });
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const button = await screen.findByRole('button', { name: 'Signing in…' });
    expect(button).toHaveAttribute('aria-busy', 'true');
    await user.click(button);
    release();
    await waitFor(() => expect(screen.getByRole('button', { name: 'Sign in' })).not.toHaveAttribute('aria-busy'));
    expect(fake.count('POST', '/v1/auth/login')).toBe(1);
  });

  it('reads every string from the localization prop', async () => {
    const user = userEvent.setup();
    await renderWithAuth(<LoginForm />, {
      fake: acme().fake,
      provider: {
        localization: {
          signInTitle: 'Connexion',
          email: 'Adresse e-mail',
          password: 'Mot de passe',
          signInSubmit: 'Se connecter',
          errors: { invalid_credentials: 'E-mail ou mot de passe incorrect.' },
        },
      },
    });
    expect(screen.getByRole('heading', { name: 'Connexion' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('Adresse e-mail'), 'ada@example.com');
    await user.type(screen.getByLabelText('Mot de passe'), 'nope{Enter}');
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('E-mail ou mot de passe incorrect.'));
    expect(screen.getByRole('button', { name: 'Se connecter' })).toBeInTheDocument();
  });
});
