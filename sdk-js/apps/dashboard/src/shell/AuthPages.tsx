// Signed-out pages, all from @authstack/react against the platform instance. The paths are the
// ones the platform instance's mails link to: {mail.link_base_url}/reset-password?token=…,
// /verify-email?token=…, /accept-invitation?token=….
import {
  LoginForm,
  PasswordResetForm,
  PasswordResetRequest,
  SignupForm,
} from '@authstack/react';
import { useState } from 'react';
import { Link, navigate } from './router';
import { VerifyEmail } from './VerifyEmail';
import { InvitationPage } from './InvitationPage';
import type { InvitationLookup } from '../api/invitations';

/** `mailbox`: the control plane has a dev mailbox (`authstack dev`), where the mails can be read. */
export function AuthPages({ path, mailbox = false, lookup }: { path: string; mailbox?: boolean; lookup: InvitationLookup }) {
  const token = new URLSearchParams(window.location.search).get('token');
  const [mailSent, setMailSent] = useState(false);
  let page;
  switch (path) {
    case '/sign-up':
      page = (
        <>
          <SignupForm
            signInUrl="/sign-in"
            onSignUp={(r) => {
              if (r.status === 'signed-in') navigate('/', { replace: true });
              else setMailSent(true);
            }}
          />
          {mailSent && mailbox && (
            <p>
              No mail leaves this machine under <code>authstack dev</code>:{' '}
              <Link to="/dev/mailbox">Open the dev mailbox</Link> to read it.
            </p>
          )}
        </>
      );
      break;
    case '/reset-password':
      page = token ? (
        <PasswordResetForm signInUrl="/sign-in" onReset={() => navigate('/sign-in', { replace: true })} />
      ) : (
        <PasswordResetRequest signInUrl="/sign-in" />
      );
      break;
    case '/verify-email':
      page = <VerifyEmail onVerified={() => navigate('/', { replace: true })} />;
      break;
    case '/accept-invitation':
      page = <InvitationPage lookup={lookup} onAccepted={() => navigate('/', { replace: true })} />;
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
