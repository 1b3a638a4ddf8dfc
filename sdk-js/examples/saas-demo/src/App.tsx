import { OrganizationSwitcher, PermissionGate, useAuth, useTenant } from '@authstack/react';
import type { ReactNode } from 'react';
import { AcceptInvitationPage, ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage } from './pages/auth';
import { AuditPage } from './pages/audit';
import { DevMailboxPage } from './pages/mailbox';
import { BillingPage, HomePage, MembersPage, NewOrganizationPage, OrganizationsPage, ProfilePage, RolesPage, SettingsPage } from './pages/app';
import { Link, navigate, usePath } from './router';

/** Pages anyone can open (emailed links land on some of them). */
const PUBLIC: Record<string, () => ReactNode> = {
  '/sign-in': SignInPage,
  '/sign-up': SignUpPage,
  '/verify-email': VerifyEmailPage,
  '/forgot-password': ForgotPasswordPage,
  '/reset-password': ResetPasswordPage,
  '/accept-invitation': AcceptInvitationPage,
  '/dev/mailbox': DevMailboxPage,
};

/** Pages for signed-in users. */
const PRIVATE: Record<string, () => ReactNode> = {
  '/': HomePage,
  '/organizations': OrganizationsPage,
  '/organizations/new': NewOrganizationPage,
  '/members': MembersPage,
  '/roles': RolesPage,
  '/settings': SettingsPage,
  '/audit': AuditPage,
  '/billing': BillingPage,
  '/profile': ProfilePage,
};

function Header() {
  const { isSignedIn, user, signOut } = useAuth();
  const { organizationId } = useTenant();
  return (
    <header className="header">
      <Link href="/" className="brand">
        Acme SaaS
      </Link>
      {isSignedIn ? (
        <>
          <OrganizationSwitcher onCreateOrganization={() => navigate('/organizations/new')} />
          <nav aria-label="Main">
            <Link href="/organizations">Organizations</Link>
            {organizationId ? (
              <>
                <Link href="/members">Members</Link>
                <Link href="/roles">Roles</Link>
                <Link href="/settings">Settings</Link>
                <PermissionGate permission="audit:read">
                  <Link href="/audit">Audit log</Link>
                </PermissionGate>
                <Link href="/billing">Billing</Link>
              </>
            ) : null}
            <Link href="/profile">{user?.name ?? user?.email}</Link>
          </nav>
          <button
            type="button"
            className="linkish"
            onClick={async () => {
              await signOut();
              navigate('/sign-in');
            }}
          >
            Sign out
          </button>
        </>
      ) : (
        <nav aria-label="Main">
          <Link href="/sign-in">Sign in</Link>
          <Link href="/sign-up">Sign up</Link>
          <Link href="/dev/mailbox">Dev mailbox</Link>
        </nav>
      )}
    </header>
  );
}

export function App() {
  const path = usePath();
  const { isLoaded, isSignedIn } = useAuth();
  let page: ReactNode;
  const Open = PUBLIC[path];
  const Closed = PRIVATE[path];
  if (Open) page = <Open />;
  else if (!Closed) page = <h1>Not found</h1>;
  else if (!isLoaded) page = <p aria-busy="true">Loading…</p>;
  else if (!isSignedIn) page = <SignInPage />;
  else page = <Closed />;
  return (
    <>
      <Header />
      <main className="page">{page}</main>
    </>
  );
}
