import { AcceptInvitation, EmailVerification, LoginForm, PasswordResetForm, PasswordResetRequest, SignupForm } from '@authstack/react';
import { navigate } from '../router';

export function SignInPage() {
  return <LoginForm onSignIn={() => navigate('/')} signUpUrl="/sign-up" forgotPasswordUrl="/forgot-password" />;
}

export function SignUpPage() {
  return (
    <SignupForm
      signInUrl="/sign-in"
      onSignUp={(result) => {
        if (result.status === 'signed-in') navigate('/organizations/new');
      }}
    />
  );
}

export function VerifyEmailPage() {
  return <EmailVerification onVerified={() => navigate('/organizations/new')} />;
}

export function ForgotPasswordPage() {
  return <PasswordResetRequest signInUrl="/sign-in" />;
}

export function ResetPasswordPage() {
  return <PasswordResetForm signInUrl="/sign-in" />;
}

export function AcceptInvitationPage() {
  return (
    <>
      <AcceptInvitation />
      <p>
        <a href="/">Continue to the app</a>
      </p>
    </>
  );
}
