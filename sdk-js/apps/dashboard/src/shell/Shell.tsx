// The signed-in frame: header with navigation, account switcher, theme and sign-out.
import {
  OrganizationSwitcher,
  useAuth,
  useOrganizations,
  usePermissions,
  useTenant,
} from '@authstack/react';
import { useEffect, useMemo, useRef, type ReactNode } from 'react';
import { createControlPlane, type ControlPlane } from '../api/controlPlane';
import { invitationLookup, type InvitationLookup } from '../api/invitations';
import type { Platform } from '../api/types';
import { DashboardProvider, useDashboard, type Reauthentication } from '../account/context';
import { AccountsPage } from '../pages/AccountsPage';
import { ApplicationsPage } from '../pages/applications/ApplicationsPage';
import { WebhooksPage } from '../pages/webhooks/WebhooksPage';
import { AuditLog } from '../pages/audit/AuditLog';
import { CustomizePage } from '../pages/customize/CustomizePage';
import { InstancesPage } from '../pages/instances/InstancesPage';
import { KeysPage } from '../pages/keys/KeysPage';
import { DevMailboxPage, useDevMailboxAvailable } from '../pages/mailbox/DevMailboxPage';
import { OpsPage } from '../pages/ops/OpsPage';
import { useOperator } from '../pages/ops/useOperator';
import { PlansPage } from '../pages/plans/PlansPage';
import { RevisionsPage } from '../pages/revisions/RevisionsPage';
import { SettingsPage } from '../pages/settings/SettingsPage';
import { TeamPage } from '../pages/TeamPage';
import { UsagePage } from '../pages/usage/UsagePage';
import { EmptyState, Loading } from '../ui/feedback';
import { AuthPages } from './AuthPages';
import { CheckoutNotice } from './CheckoutNotice';
import { Link, navigate, usePath } from './router';
import { VerifyEmail } from './VerifyEmail';
import { InvitationPage } from './InvitationPage';
import type { ColorScheme } from './theme';

const NAV: { to: string; label: string }[] = [
  { to: '/instances', label: 'Instances' },
  { to: '/plans', label: 'Plans' },
  { to: '/usage', label: 'Usage' },
  { to: '/keys', label: 'API keys' },
  { to: '/applications', label: 'Applications' },
  { to: '/webhooks', label: 'Webhooks' },
  { to: '/settings', label: 'Settings' },
  { to: '/revisions', label: 'Revisions' },
  { to: '/customize', label: 'Customize' },
  { to: '/audit', label: 'Audit log' },
  { to: '/team', label: 'Team' },
  { to: '/accounts', label: 'Accounts' },
];

/** Only for platform operators (`GET /v1/me`). */
const OPS_NAV = { to: '/ops', label: 'Ops' };
/** Only under `authstack dev` (`GET /v1/dev/mailbox` answers). */
const MAILBOX_NAV = { to: '/dev/mailbox', label: 'Dev mailbox' };
const MAILBOX_PATH = MAILBOX_NAV.to;

export interface ShellProps {
  platform: Platform;
  scheme: ColorScheme;
  onToggleScheme: () => void;
  /** The control plane's fetch (tests). */
  fetch?: typeof fetch;
  /** Where the control plane is; default the page's origin. */
  controlPlaneUrl?: string;
  /** The platform gateway's fetch (tests), for the calls the SDK has no method for. */
  gatewayFetch?: typeof fetch;
}

export function Shell({ platform, scheme, onToggleScheme, fetch, controlPlaneUrl, gatewayFetch }: ShellProps) {
  const { isLoaded, isSignedIn, orgId, getToken, signIn, signOut, user, userId } = useAuth();
  const path = usePath();
  const tokenRef = useRef(getToken);
  tokenRef.current = getToken;
  const api: ControlPlane = useMemo(
    () => createControlPlane({ baseUrl: controlPlaneUrl ?? '', getToken: () => tokenRef.current(), fetch }),
    [fetch, controlPlaneUrl],
  );
  const platformInfo = useMemo(
    () => ({ gateway_url: platform.gateway_url, publishable_key: platform.publishable_key }),
    [platform.gateway_url, platform.publishable_key],
  );
  const lookup = useMemo(
    () => invitationLookup({ baseUrl: platform.gateway_url, apiKey: platform.publishable_key, fetch: gatewayFetch }),
    [platform.gateway_url, platform.publishable_key, gatewayFetch],
  );
  const email = user?.email ?? null;
  const reauthentication = useMemo<Reauthentication | null>(
    () =>
      email
        ? {
            email,
            // A new session (its `auth_time` is now), adopted by the client: the control-plane calls
            // then carry its token. In the same organization, so the dashboard stays in the account.
            signIn: async (password: string) => {
              await signIn({ email, password, ...(orgId ? { organizationId: orgId } : {}) });
            },
          }
        : null,
    [email, orgId, signIn],
  );
  const operator = useOperator(api, isSignedIn ? userId : null);
  const mailbox = useDevMailboxAvailable(api) === true;
  const nav = [...NAV, ...(operator ? [OPS_NAV] : []), ...(mailbox ? [MAILBOX_NAV] : [])];

  if (!isLoaded) return <Loading label="Restoring your session…" />;
  if (!isSignedIn) {
    // Signed out too: the mails of sign-up and password reset are read there.
    if (path === MAILBOX_PATH) {
      return (
        <main id="main" className="page-wide">
          <p>
            <Link to="/sign-in">Back to sign-in</Link>
          </p>
          <DevMailboxPage api={api} />
        </main>
      );
    }
    return <AuthPages path={path} mailbox={mailbox} lookup={lookup} />;
  }

  return (
    <DashboardProvider api={api} platform={platformInfo} organizationId={orgId ?? null} reauthentication={reauthentication}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          AuthStack
        </Link>
        <OrganizationSwitcher onCreateOrganization={() => navigate('/accounts')} />
        <div className="topbar-actions">
          {/* Says what pressing it does (not a pressed state: the label changes with the theme). */}
          <button type="button" className="button-secondary" onClick={onToggleScheme}>
            {scheme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme'}
          </button>
          <span className="who">{user?.email}</span>
          <button
            type="button"
            className="button-secondary"
            onClick={async () => {
              await signOut();
              navigate('/sign-in', { replace: true });
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <div className="layout">
        <nav aria-label="Main" className="sidenav">
          <ul>
            {nav.map((item) => (
              <li key={item.to}>
                <Link to={item.to}>{item.label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <CheckoutNotice />
          <Page path={path} operator={operator} lookup={lookup} />
        </main>
      </div>
    </DashboardProvider>
  );
}

/**
 * A session starts without an organization: select the user's only one, or the first one this
 * browser knows the account of, so that the dashboard opens on the account.
 */
function useSelectAccount() {
  const { organizationId, knows } = useDashboard();
  const { organizations, isLoaded } = useOrganizations();
  const { switchOrganization } = useTenant();
  const tried = useRef(false);
  useEffect(() => {
    // Once, on the first list: later the user (or account creation) chooses.
    if (!isLoaded || tried.current) return;
    tried.current = true;
    if (organizationId) return;
    const pick = organizations.find((o) => knows(o.id)) ?? (organizations.length === 1 ? organizations[0] : undefined);
    if (!pick) return;
    switchOrganization(pick.id).catch(() => undefined); // the account menu still offers it
  }, [organizationId, isLoaded, organizations, knows, switchOrganization]);
}

function Page({ path, operator, lookup }: { path: string; operator: boolean | null; lookup: InvitationLookup }) {
  const { account, api } = useDashboard();
  const { organizations, isLoaded } = useOrganizations();
  const { hasPermission } = usePermissions();
  useSelectAccount();
  // Mail links opened while signed in.
  if (path === '/accept-invitation') return <InvitationPage lookup={lookup} onAccepted={() => navigate('/', { replace: true })} />;
  if (path === '/verify-email') return <VerifyEmail onVerified={() => navigate('/', { replace: true })} />;
  if (path === MAILBOX_PATH) return <DevMailboxPage api={api} />;
  if (path === '/accounts') return <AccountsPage />;
  if (path === '/team') return <TeamPage />;
  // Across accounts: no account needed.
  if (path === '/ops') return <OpsPage operator={operator} />;
  if (!account) {
    // No account yet: the first thing to do is create (or connect) one.
    if (!isLoaded) return <Loading />;
    return organizations.length === 0 || path === '/' ? <AccountsPage /> : <NeedsAccount />;
  }
  const pages: Record<string, ReactNode> = {
    '/': <InstancesPage />,
    '/instances': <InstancesPage />,
    // Stripe Checkout's default return address (`--dashboard-url`).
    '/dashboard': <InstancesPage />,
    '/plans': <PlansPage />,
    '/keys': <KeysPage canRead={hasPermission('keys:read')} canManage={hasPermission('keys:manage')} />,
    '/applications': <ApplicationsPage canRead={hasPermission('keys:read')} canManage={hasPermission('keys:manage')} />,
    '/webhooks': <WebhooksPage canRead={hasPermission('keys:read')} canManage={hasPermission('keys:manage')} />,
    '/revisions': <RevisionsPage />,
    '/customize': <CustomizePage />,
    '/settings': <SettingsPage canManage={hasPermission('instances:manage')} />,
    '/usage': <UsagePage />,
    '/audit': <AuditLog />,
  };
  return (
    pages[path] ?? (
      <EmptyState title="Page not found">
        <p>
          There is no page at <code>{path}</code>. <Link to="/">Go to your instances</Link>.
        </p>
      </EmptyState>
    )
  );
}

function NeedsAccount() {
  return (
    <EmptyState title="Choose an account first">
      <p>
        Pick an account in the account menu at the top, or <Link to="/accounts">create or connect one</Link>.
      </p>
    </EmptyState>
  );
}
