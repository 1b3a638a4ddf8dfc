// Signed-out pages, all from @authstack/react against the platform instance. The paths are the
// ones the platform instance's mails link to: {mail.link_base_url}/reset-password?token=…,
// /verify-email?token=…, /accept-invitation?token=….
import {
  AcceptInvitation,
  EmailVerification,
  LoginForm,
  PasswordResetForm,
  PasswordResetRequest,
  SignupForm,
} from '@authstack/react';
import { navigate } from './router';

export function AuthPages({ path }: { path: string }) {
  const token = new URLSearchParams(window.location.search).get('token');
  let page;
  switch (path) {
    case '/sign-up':
      page = <SignupForm signInUrl="/sign-in" onSignUp={(r) => r.status === 'signed-in' && navigate('/', { replace: true })} />;
      break;
    case '/reset-password':
      page = token ? (
        <PasswordResetForm signInUrl="/sign-in" onReset={() => navigate('/sign-in', { replace: true })} />
      ) : (
        <PasswordResetRequest signInUrl="/sign-in" />
      );
      break;
    case '/verify-email':
      page = <EmailVerification onVerified={() => navigate('/', { replace: true })} />;
      break;
    case '/accept-invitation':
      page = <AcceptInvitation onAccepted={() => navigate('/', { replace: true })} />;
      break;
    default:
      page = (
        <LoginForm
          signUpUrl="/sign-up"
          forgotPasswordUrl="/reset-password"
          onSignIn={() => {
            if (path !== '/' && path !== '/sign-in') return;
            navigate('/', { replace: true });
          }}
        />
      );
  }
  return (
    <main id="main" className="auth-page">
      <h1 className="brand">AuthStack</h1>
      {page}
    </main>
  );
}
