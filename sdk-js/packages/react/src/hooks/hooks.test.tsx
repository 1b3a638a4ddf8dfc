import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { json } from '../../../../test-support/fake-instance';
import { acme, clientFor, PASSWORD, renderWithAuth } from '../../test/render';
import { MemberList } from '../components/members/MemberList';
import { OrganizationList } from '../components/organizations/OrganizationList';
import { AuthStackProvider } from '../context/provider';
import { TenantProvider } from '../context/tenant';
import { useAuth } from './useAuth';
import { useOrganizationMembers } from './useOrganizationMembers';
import { useOrganizations } from './useOrganizations';
import { usePermissions } from './usePermissions';
import { useRoles } from './useRoles';
import { useTenant } from './useTenant';
import { useUser } from './useUser';
import { experimental_useSubscription } from './useSubscription';

function Probe() {
  const auth = useAuth();
  const { user } = useUser();
  const tenant = useTenant();
  const perms = usePermissions();
  return (
    <dl>
      <dt>auth</dt>
      <dd data-testid="auth">{!auth.isLoaded ? 'loading' : auth.isSignedIn ? `in:${user?.email}` : 'out'}</dd>
      <dt>tenant</dt>
      <dd data-testid="tenant">{`${tenant.organization?.slug ?? '-'}/${tenant.role ?? '-'}`}</dd>
      <dt>can invite</dt>
      <dd data-testid="invite">{String(perms.hasPermission('members:invite'))}</dd>
      <dd data-testid="any">{String(perms.hasAnyPermission(['billing:manage', 'members:read']))}</dd>
      <dd data-testid="all">{String(perms.hasAllPermissions(['billing:manage', 'members:read']))}</dd>
    </dl>
  );
}

describe('useAuth, useUser, useTenant, usePermissions', () => {
  it('follow sign-in, organization switch and sign-out', async () => {
    const { fake, org } = acme();
    const client = clientFor(fake);
    render(
      <AuthStackProvider client={client}>
        <Probe />
      </AuthStackProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('auth')).toHaveTextContent('out'));
    await act(() => client.auth.signIn({ email: 'ada@example.com', password: PASSWORD }));
    expect(screen.getByTestId('auth')).toHaveTextContent('in:ada@example.com');
    expect(screen.getByTestId('tenant')).toHaveTextContent('-/-');
    expect(screen.getByTestId('invite')).toHaveTextContent('false');
    await act(() => client.organizations.switch(org.id));
    await waitFor(() => expect(screen.getByTestId('tenant')).toHaveTextContent('acme/owner'));
    expect(screen.getByTestId('invite')).toHaveTextContent('true');
    expect(screen.getByTestId('any')).toHaveTextContent('true');
    expect(screen.getByTestId('all')).toHaveTextContent('true');
    await act(() => client.auth.signOut());
    expect(screen.getByTestId('auth')).toHaveTextContent('out');
    expect(screen.getByTestId('invite')).toHaveTextContent('false');
  });

  it('useAuth().getToken returns a token the API accepts', async () => {
    const { fake } = acme();
    let getToken!: () => Promise<string | null>;
    function Grab() {
      getToken = useAuth().getToken;
      return null;
    }
    await renderWithAuth(<Grab />, { fake, signIn: 'ada@example.com' });
    const token = await getToken();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const answer = await fake.fetch('http://gateway.test/v1/me', { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(200);
  });
});

describe('token refresh race, as seen from hooks', () => {
  it('components mounting with an expired access token share one refresh', async () => {
    // 2 s tokens are refreshed 1 s before expiry; no timer refreshes them (autoRefresh off), so
    // after 1.1 s every component's first request finds the token due.
    const { fake, org } = acme({ ttlSeconds: 2, refreshDelayMs: 30 });
    const client = clientFor(fake, { autoRefresh: false });
    await client.auth.signIn({ email: 'ada@example.com', password: PASSWORD });
    await client.organizations.switch(org.id);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const before = fake.count('POST', '/v1/auth/refresh');
    render(
      <AuthStackProvider client={client}>
        <OrganizationList />
        <MemberList />
        <Probe />
      </AuthStackProvider>,
    );
    expect(await screen.findByText('Your role: owner')).toBeInTheDocument();
    expect(await screen.findByRole('table')).toBeInTheDocument();
    expect(screen.getByText('bob@example.com')).toBeInTheDocument();
    // Three reads (organizations, members, and the second organizations view shares the first)
    // needed a fresh token; exactly one refresh went out, and no reuse revoked the session.
    expect(fake.count('POST', '/v1/auth/refresh') - before).toBe(1);
    expect([...fake.sessions.values()].every((s) => !s.revoked)).toBe(true);
    expect(client.getState()).toMatchObject({ status: 'signed-in', organizationId: org.id });
  });

  it('a request answered 401 (token revoked server-side) refreshes once and the hook still gets data', async () => {
    const { fake, org } = acme();
    const client = clientFor(fake);
    await client.auth.signIn({ email: 'ada@example.com', password: PASSWORD });
    fake.failNext('GET', /^\/v1\/organizations$/, () => json(401, { error: 'unauthorized', message: 'the access token is invalid or expired' }));
    function Names() {
      const { organizations, isLoaded } = useOrganizations();
      return <p data-testid="names">{isLoaded ? organizations.map((o) => o.name).join(',') : 'loading'}</p>;
    }
    render(
      <AuthStackProvider client={client}>
        <Names />
      </AuthStackProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('names')).toHaveTextContent('Acme'));
    expect(fake.count('POST', '/v1/auth/refresh')).toBe(1);
    expect(org.id).toBeTruthy();
  });

  it('a refresh that fails with invalid_grant signs the hooks out', async () => {
    const { fake } = acme({ ttlSeconds: 2 });
    const client = clientFor(fake, { autoRefresh: false });
    await client.auth.signIn({ email: 'ada@example.com', password: PASSWORD });
    for (const session of fake.sessions.values()) session.revoked = true;
    await new Promise((resolve) => setTimeout(resolve, 1100));
    render(
      <AuthStackProvider client={client}>
        <Probe />
        <OrganizationList />
      </AuthStackProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('auth')).toHaveTextContent('out'));
  });
});

describe('<TenantProvider>', () => {
  it('switches the session to the organization named by slug before rendering children', async () => {
    const { fake } = acme();
    const beta = fake.addOrg('Beta', { 'ada@example.com': 'viewer' });
    const { client } = await renderWithAuth(
      <TenantProvider slug="beta" fallback={<p>switching…</p>}>
        <Probe />
      </TenantProvider>,
      { fake, signIn: 'ada@example.com' },
    );
    expect(screen.getByText('switching…')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByTestId('tenant')).toHaveTextContent('beta/viewer'));
    expect(client.getState().organizationId).toBe(beta.id);
    expect(screen.getByTestId('invite')).toHaveTextContent('false');
  });

  it('scopes hooks without switching when asked, and reports an unknown slug', async () => {
    const { fake, org } = acme();
    const beta = fake.addOrg('Beta', { 'ada@example.com': 'viewer' });
    function Members() {
      const { members, organizationId } = useOrganizationMembers();
      return <p data-testid="members">{`${organizationId}:${members.length}`}</p>;
    }
    const { client } = await renderWithAuth(
      <>
        <TenantProvider organizationId={beta.id} switchSession={false}>
          <Members />
          <Probe />
        </TenantProvider>
        <TenantProvider slug="nope">
          <p>never</p>
        </TenantProvider>
      </>,
      { fake, signIn: 'ada@example.com', organizationId: org.id },
    );
    await waitFor(() => expect(screen.getByTestId('members')).toHaveTextContent(`${beta.id}:1`));
    expect(screen.getByTestId('tenant')).toHaveTextContent('beta/viewer');
    expect(client.getState().organizationId).toBe(org.id);
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('This no longer exists.'));
    expect(screen.queryByText('never')).not.toBeInTheDocument();
  });
});

describe('useRoles', () => {
  it('lists roles and the catalogue; mutations refresh every view', async () => {
    const { fake, org } = acme();
    let api!: ReturnType<typeof useRoles>;
    function Roles() {
      api = useRoles();
      return <p data-testid="roles">{api.roles.map((r) => r.key).join(',')}</p>;
    }
    await renderWithAuth(
      <>
        <Roles />
        <Roles />
      </>,
      { fake, signIn: 'ada@example.com', organizationId: org.id },
    );
    await waitFor(() => expect(screen.getAllByTestId('roles')[0]).toHaveTextContent('owner,admin,member,viewer'));
    expect(fake.count('GET', `/v1/organizations/${org.id}/roles`)).toBe(1);
    expect(api.availablePermissions).toHaveLength(14);
    await act(() => api.createRole({ key: 'auditor', name: 'Auditor', permissions: ['audit:read'] }));
    await waitFor(() =>
      screen.getAllByTestId('roles').forEach((el) => expect(el).toHaveTextContent('owner,admin,member,viewer,auditor')),
    );
  });
});

describe('experimental_useSubscription', () => {
  it('reports that no plan data is available', () => {
    let value!: ReturnType<typeof experimental_useSubscription>;
    function Sub() {
      value = experimental_useSubscription();
      return null;
    }
    render(<Sub />);
    expect(value).toEqual({ isLoaded: true, isSupported: false, subscription: null, plans: [], portalUrl: null });
  });
});

describe('<AuthStackProvider>', () => {
  it('creates its own client from apiKey and baseUrl and restores nothing when storage is empty', async () => {
    const { fake } = acme();
    render(
      <AuthStackProvider apiKey="ask_test_demo" baseUrl="http://gateway.test/" storage="memory" fetch={fake.fetch}>
        <Probe />
      </AuthStackProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('auth')).toHaveTextContent('out'));
    const user = userEvent.setup();
    expect(user).toBeTruthy();
  });

  it('explains a missing provider', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => render(<Probe />)).toThrow('wrap your app in <AuthStackProvider>');
    spy.mockRestore();
  });
});

describe('<AuthStackProvider> under StrictMode', () => {
  it('keeps the client it made through the development double mount, and signs in', async () => {
    const { fake } = acme();
    const { StrictMode } = await import('react');
    let signIn!: ReturnType<typeof useAuth>['signIn'];
    function Grab() {
      signIn = useAuth().signIn;
      return null;
    }
    render(
      <StrictMode>
        <AuthStackProvider apiKey="ask_test_demo" baseUrl="http://gateway.test" storage="memory" fetch={fake.fetch}>
          <Grab />
          <Probe />
        </AuthStackProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('auth')).toHaveTextContent('out'));
    // After the deferred destroy check has run:
    await new Promise((resolve) => setTimeout(resolve, 10));
    await act(() => signIn({ email: 'ada@example.com', password: PASSWORD }));
    expect(screen.getByTestId('auth')).toHaveTextContent('in:ada@example.com');
  });
});
