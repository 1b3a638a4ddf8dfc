import {
  CreateOrganization,
  experimental_BillingPortal as BillingPortal,
  experimental_PricingTable as PricingTable,
  experimental_SubscriptionStatus as SubscriptionStatus,
  InviteMemberModal,
  MemberList,
  OrganizationDetail,
  OrganizationList,
  OrganizationSettings,
  PendingInvitations,
  PermissionGate,
  RoleManager,
  UserProfile,
  useAuth,
  useTenant,
} from '@authstack/react';
import { Link, navigate } from '../router';

export function HomePage() {
  const { user } = useAuth();
  const { organizationId } = useTenant();
  return (
    <>
      <h1>Welcome, {user?.name ?? user?.email}</h1>
      {organizationId ? (
        <OrganizationDetail />
      ) : (
        <p>
          You are not working in an organization. <Link href="/organizations/new">Create one</Link> or{' '}
          <Link href="/organizations">open one</Link>.
        </p>
      )}
    </>
  );
}

export function OrganizationsPage() {
  return (
    <>
      <h1>Organizations</h1>
      <OrganizationList onSelect={() => navigate('/')} />
      <p>
        <Link href="/organizations/new">Create an organization</Link>
      </p>
    </>
  );
}

export function NewOrganizationPage() {
  return <CreateOrganization onCreated={() => navigate('/members')} />;
}

export function MembersPage() {
  return (
    <>
      <h1>Members</h1>
      <PermissionGate permission="members:invite">
        <InviteMemberModal />
      </PermissionGate>
      <MemberList />
      <PermissionGate permission="members:read">
        <PendingInvitations />
      </PermissionGate>
    </>
  );
}

export function RolesPage() {
  return (
    <>
      <h1>Roles</h1>
      <PermissionGate permission="roles:read" fallback={<p>Your role cannot see the organization’s roles.</p>}>
        <RoleManager />
      </PermissionGate>
    </>
  );
}

export function SettingsPage() {
  return <OrganizationSettings onDeleted={() => navigate('/organizations')} onLeft={() => navigate('/organizations')} />;
}

export function BillingPage() {
  return (
    <>
      <h1>Billing (experimental)</h1>
      <SubscriptionStatus />
      <PricingTable />
      <BillingPortal />
    </>
  );
}

export function ProfilePage() {
  return <UserProfile onSignOut={() => navigate('/sign-in')} />;
}
