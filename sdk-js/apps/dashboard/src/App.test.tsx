import { createClient } from '@authstack/client';
import { act, render, screen, waitFor, within } from '@testing-library/react';
import { StrictMode } from 'react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeInstance, PASSWORD } from '../../../test-support/fake-instance';
import { App } from './App';
import { FakeControlPlane, json } from '../test/fake-control-plane';

const platform = { instance_id: 'ins_platform', gateway_url: 'http://gateway.test', publishable_key: 'ask_live_platform', sdk: null };

function setup({ verify = false, strict = false, lookup }: { verify?: boolean; strict?: boolean; lookup?: () => Response } = {}) {
  const platformInstance = new FakeInstance({ requireEmailVerification: verify });
  platformInstance.addUser('ada@example.com', PASSWORD, 'Ada');
  const client = createClient({
    apiKey: platform.publishable_key,
    baseUrl: platform.gateway_url,
    storage: 'memory',
    crossTab: false,
    fetch: platformInstance.fetch,
  });
  const cp = new FakeControlPlane();
  cp.on('GET', '/v1/plans', () => ({ data: [] }))
    .on('GET', '/v1/regions', () => ({ data: [] }))
    .on('GET', /\/instances$/, () => ({ data: [] }));
  cp.on('POST', '/v1/accounts', (call) => {
    const name = (call.body as { name: string }).name;
    const org = platformInstance.addOrg(name, { 'ada@example.com': 'owner' });
    return json(201, { id: 'acc_9', organization_id: org.id, name, created_by: 'usr_1', created_at: '', subscription: null, instances: [] });
  });
  const lookups: unknown[] = [];
  // The platform instance answers the invitation lookup of the contract, when the test gives one.
  if (lookup) {
    platformInstance.routes.set('POST /v1/invitations/lookup', (req) => {
      lookups.push({ body: req.body, key: req.headers['x-authstack-key'] });
      return lookup();
    });
  }
  const app = <App platform={platform} client={client} fetch={cp.fetch} gatewayFetch={platformInstance.fetch} />;
  render(strict ? <StrictMode>{app}</StrictMode> : app);
  return { platformInstance, client, cp, lookups };
}

describe('<App>', () => {
  it('signs in with the keyboard through @authstack/react, creates an account and switches to it', async () => {
    const user = userEvent.setup();
    const { cp, platformInstance } = setup();
    await screen.findByLabelText('Email address');
    await user.type(screen.getByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await screen.findByRole('heading', { name: 'Create an account' });
    await user.type(screen.getByLabelText('Account name'), 'Acme{Enter}');
    await waitFor(() => expect(cp.callsTo('POST', '/v1/accounts')).toHaveLength(1));
    const call = cp.callsTo('POST', '/v1/accounts')[0]!;
    expect(call.body).toEqual({ name: 'Acme' });
    expect(call.headers['authorization']).toMatch(/^Bearer .+/);
    await waitFor(() => expect(window.location.pathname).toBe('/plans'));
    expect(platformInstance.count('POST', /\/switch$/)).toBe(1);
    expect(screen.getByRole('navigation', { name: 'Main' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Plans' })).toHaveAttribute('aria-current', 'page');
  });

  it('explains a failed account creation in plain words', async () => {
    const user = userEvent.setup();
    const { cp } = setup();
    cp.on('POST', '/v1/accounts', () => json(500, { error: 'internal_error', message: 'internal error' }));
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await user.type(await screen.findByLabelText('Account name'), 'Acme{Enter}');
    const alert = await screen.findByText(/Something went wrong on our side/);
    expect(alert.closest('[role="alert"]')).not.toBeNull();
    expect(document.body.textContent).not.toContain('{"error"');
  });

  it('offers sign-up and password reset from @authstack/react', async () => {
    window.history.replaceState(null, '', '/reset-password');
    setup();
    expect(await screen.findByRole('button', { name: /reset link/i })).toBeInTheDocument();
    act(() => {
      window.history.replaceState(null, '', '/sign-up');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(await screen.findByRole('button', { name: /create account/i })).toBeInTheDocument();
  });

  it('switches light and dark, and says so to assistive technology', async () => {
    const user = userEvent.setup();
    setup();
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const toggle = await screen.findByRole('button', { name: /^Switch to (dark|light) theme$/ });
    const before = document.documentElement.dataset['theme'];
    expect(toggle).toHaveAccessibleName(before === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
    await user.click(toggle);
    const after = document.documentElement.dataset['theme'];
    expect(after).not.toBe(before);
    expect(toggle).toHaveAccessibleName(after === 'dark' ? 'Switch to light theme' : 'Switch to dark theme');
    await user.click(toggle);
    expect(document.documentElement.dataset['theme']).toBe(before);
  });

  it('connects an existing account of the selected organization and returns from Checkout', async () => {
    const user = userEvent.setup();
    window.history.replaceState(null, '', '/dashboard?checkout=success');
    const { cp, platformInstance } = setup();
    const org = platformInstance.addOrg('Demo', { 'ada@example.com': 'admin' });
    cp.on('GET', '/v1/accounts/acc_demo', () => ({ id: 'acc_demo', organization_id: org.id, name: 'Demo', subscription: null, instances: [] }));
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    expect(await screen.findByText(/Payment received/)).toBeInTheDocument();
    // Ada's only organization is selected at once; the account behind it is not known yet.
    await waitFor(() => expect(platformInstance.count('POST', /\/switch$/)).toBe(1));
    await user.click(await screen.findByRole('link', { name: 'Accounts' }));
    await user.type(await screen.findByLabelText('Account id'), 'acc_demo');
    await user.click(screen.getByRole('button', { name: 'Connect' }));
    expect(await screen.findByText(/You are working in/)).toHaveTextContent('Demo (acc_demo)');
    await user.click(screen.getByRole('link', { name: 'Instances' }));
    expect(await screen.findByRole('heading', { name: 'No instances yet' })).toBeInTheDocument();
  });

  it('opens invitation links with @authstack/react', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_token');
    setup();
    expect(await screen.findByText('You were invited to join an organization.')).toBeInTheDocument();
  });

  it('offers Usage, Settings and the audit log, and Ops only to platform operators', async () => {
    const user = userEvent.setup();
    const { cp } = setup();
    cp.on('GET', '/v1/me', () => ({ user_id: 'usr_1', email: 'ada@example.com', operator: true }));
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Usage' })).toHaveAttribute('href', '/usage');
    expect(within(nav).getByRole('link', { name: 'Settings' })).toHaveAttribute('href', '/settings');
    expect(within(nav).getByRole('link', { name: 'Audit log' })).toHaveAttribute('href', '/audit');
    await user.click(await within(nav).findByRole('link', { name: 'Ops' }));
    expect(await screen.findByRole('heading', { name: 'No instances yet' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: 'Ops', level: 1 })).toBeInTheDocument();
    expect(cp.callsTo('GET', '/v1/me')).toHaveLength(1);
    expect(cp.callsTo('GET', '/v1/me')[0]!.headers['authorization']).toMatch(/^Bearer .+/);
    expect(cp.callsTo('GET', '/v1/ops/instances')[0]!.headers['authorization']).toMatch(/^Bearer .+/);
  });

  it('hides Ops when /v1/me says no, or is not there', async () => {
    const user = userEvent.setup();
    const { cp } = setup();
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    await waitFor(() => expect(cp.callsTo('GET', '/v1/me')).toHaveLength(1));
    expect(within(nav).queryByRole('link', { name: 'Ops' })).toBeNull();
    // Not known to be an operator: the list itself decides.
    cp.on('GET', '/v1/ops/instances', () => json(403, { error: 'forbidden', message: 'only platform operators may do this' }));
    act(() => {
      window.history.pushState(null, '', '/ops');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    expect(await screen.findByRole('heading', { name: 'Only platform operators can see this page' })).toBeInTheDocument();
  });

  it('spends an email-verification link once, under StrictMode too, and signs the user in', async () => {
    const platformInstance = new FakeInstance({ requireEmailVerification: true });
    await platformInstance.fetch('http://gateway.test/v1/auth/signup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'grace@example.com', password: PASSWORD }),
    });
    const token = platformInstance.outbox.find((m) => m.kind === 'verify_email')!.token;
    window.history.replaceState(null, '', `/verify-email?token=${token}`);
    const client = createClient({ apiKey: platform.publishable_key, baseUrl: platform.gateway_url, storage: 'memory', crossTab: false, fetch: platformInstance.fetch });
    const cp = new FakeControlPlane().on('GET', /\/instances$/, () => ({ data: [] }));
    render(
      <StrictMode>
        <App platform={platform} client={client} fetch={cp.fetch} />
      </StrictMode>,
    );
    await screen.findByRole('navigation', { name: 'Main' });
    await waitFor(() => expect(window.location.pathname).toBe('/'));
    await new Promise((r) => setTimeout(r, 100));
    expect(platformInstance.count('POST', '/v1/auth/email/verify')).toBe(1);
    expect(screen.queryByText(/invalid, used or expired/)).toBeNull();
  });

  it('links the dev mailbox after sign-up and in the navigation when the control plane has one', async () => {
    const user = userEvent.setup();
    const { cp, platformInstance } = setup({ verify: true });
    cp.on('GET', '/v1/dev/mailbox', () => ({ mailboxes: [] }));
    act(() => {
      window.history.replaceState(null, '', '/sign-up');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    await user.type(await screen.findByLabelText('Email address'), 'grace@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const link = await screen.findByRole('link', { name: 'Open the dev mailbox' });
    expect(link).toHaveAttribute('href', '/dev/mailbox');
    await user.click(link);
    expect(await screen.findByRole('heading', { level: 1, name: 'Dev mailbox' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Back to sign-in' })).toBeInTheDocument();
    // Signed in: in the navigation.
    platformInstance.addUser('ada2@example.com', PASSWORD, 'Ada');
    act(() => {
      window.history.replaceState(null, '', '/sign-in');
      window.dispatchEvent(new PopStateEvent('popstate'));
    });
    await user.type(await screen.findByLabelText('Email address'), 'ada2@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    await user.click(within(nav).getByRole('link', { name: 'Dev mailbox' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Dev mailbox' })).toBeInTheDocument();
    expect(screen.getAllByRole('heading', { level: 1 })).toHaveLength(1);
  });

  it('hides the dev mailbox when the control plane answers 404', async () => {
    const user = userEvent.setup();
    const { cp } = setup();
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    await waitFor(() => expect(cp.callsTo('GET', '/v1/dev/mailbox').length).toBeGreaterThan(0));
    expect(within(nav).queryByRole('link', { name: 'Dev mailbox' })).toBeNull();
  });

  it('signs in again when a secret key needs a recent sign-in, in the same account, and retries with the fresh session', async () => {
    const user = userEvent.setup();
    const { cp, platformInstance } = setup();
    const org = platformInstance.addOrg('Acme', {});
    org.roles.push({ id: 'rol_1', key: 'developer', name: 'Developer', description: null, permissions: ['keys:read', 'keys:manage'] });
    org.members.set(platformInstance.users.get('ada@example.com')!.id, 'developer');
    window.localStorage.setItem('authstack.dashboard.accounts', JSON.stringify({ [org.id]: { id: 'acc_1', name: 'Acme' } }));
    const claims = (call: { headers: Record<string, string> }) =>
      JSON.parse(atob(call.headers['authorization']!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { sid: string; org_id?: string };
    let firstSession: string | undefined;
    cp.on('GET', '/v1/accounts/acc_1/keys', () => ({ data: [] }));
    cp.on('POST', '/v1/accounts/acc_1/keys', (call) => {
      const { sid } = claims(call);
      firstSession ??= sid;
      if (sid === firstSession) return json(403, { error: 'reauthentication_required', message: 'sign in again' });
      return json(201, { id: 'key_1', name: 'Backend', kind: 'secret', environment: 'test', instance_id: 'ins_test', display_prefix: 'ask_secret_te', created_at: '', last_used_at: null, expires_at: null, revoked_at: null, replaced_by: null, created_by: null, secret: 'ask_secret_fresh_1' });
    });
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(platformInstance.count('POST', /\/switch$/)).toBe(1));
    await user.click(within(await screen.findByRole('navigation', { name: 'Main' })).getByRole('link', { name: 'API keys' }));
    await user.type(await screen.findByLabelText('Name'), 'Backend');
    await user.click(screen.getByLabelText('Secret (server)'));
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    const dialog = await screen.findByRole('dialog', { name: 'Confirm your password' });
    expect(dialog).toHaveTextContent('ada@example.com');
    await user.type(within(dialog).getByLabelText('Password'), `${PASSWORD}{Enter}`);
    expect(await screen.findByLabelText('New key')).toHaveTextContent('ask_secret_fresh_1');
    const logins = platformInstance.requests.filter((r) => r.method === 'POST' && r.path === '/v1/auth/login');
    expect(logins).toHaveLength(2);
    expect(logins[1]!.body).toEqual({ email: 'ada@example.com', password: PASSWORD, org_id: org.id });
    const [first, retry] = cp.callsTo('POST', '/v1/accounts/acc_1/keys');
    expect(claims(retry!).sid).not.toBe(claims(first!).sid);
    expect(claims(retry!).org_id).toBe(org.id);
    expect(screen.getByRole('heading', { level: 1, name: 'API keys' })).toBeInTheDocument();
    // The client keeps its tokens where it did (memory here): nothing new in localStorage.
    expect(Object.keys(window.localStorage)).toEqual(['authstack.dashboard.accounts']);
  });

  it('shows the Team page with one heading per section', async () => {
    const user = userEvent.setup();
    const { platformInstance } = setup();
    platformInstance.addOrg('Acme', { 'ada@example.com': 'owner' });
    await user.type(await screen.findByLabelText('Email address'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), `${PASSWORD}{Enter}`);
    await waitFor(() => expect(platformInstance.count('POST', /\/switch$/)).toBe(1));
    await user.click(within(await screen.findByRole('navigation', { name: 'Main' })).getByRole('link', { name: 'Team' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Team' })).toBeInTheDocument();
    expect(await screen.findByRole('heading', { name: 'Pending invitations' })).toBeInTheDocument();
    expect(screen.getAllByRole('heading', { name: 'Pending invitations' })).toHaveLength(1);
    expect(screen.getAllByRole('heading', { name: 'Team' })).toHaveLength(1);
    expect(screen.getAllByRole('heading', { level: 1 })).toHaveLength(1);
  });

  it('names the organization and role of an invitation before it is accepted', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_token');
    const { lookups } = setup({
      lookup: () =>
        json(200, { organization: { id: 'org_9', name: 'Acme', slug: 'acme' }, role: 'admin', email: 'grace@example.com', expires_at: '2026-12-08T10:00:00Z' }),
    });
    expect(await screen.findByRole('heading', { name: 'Join Acme as Admin' })).toBeInTheDocument();
    expect(screen.getByText(/The invitation is for/)).toHaveTextContent('grace@example.com');
    expect(await screen.findByRole('button', { name: 'Accept invitation' })).toBeInTheDocument();
    expect(lookups).toEqual([{ body: { token: 'inv_token' }, key: 'ask_live_platform' }]);
  });

  it('says plainly when an invitation link no longer works, in the instance\'s words, and offers no accept', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_old');
    // What the instance answers for an invalid, used, cancelled or expired token.
    setup({ lookup: () => json(400, { error: 'invalid_grant', message: 'this invitation has expired; ask for a new one' }) });
    expect(await screen.findByRole('heading', { name: 'This invitation link does not work' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(/^This invitation has expired; ask for a new one\.$/);
    expect(screen.queryByRole('button', { name: 'Accept invitation' })).toBeNull();
  });

  it('names the instance\'s reason for a used invitation and says whom to ask', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_used');
    setup({ lookup: () => json(400, { error: 'invalid_grant', message: 'this invitation has already been accepted' }) });
    const alert = await screen.findByRole('alert');
    expect([...alert.querySelectorAll('p')].map((p) => p.textContent)).toEqual([
      'This invitation has already been accepted.',
      'Ask the person who invited you to send a new one.',
    ]);
    expect(screen.getByRole('heading', { name: 'This invitation link does not work' })).toBeInTheDocument();
  });

  it('still treats invalid_token (earlier instances) as a bad link, in general words when there is no reason', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_old');
    setup({ lookup: () => json(404, { error: 'invalid_token' }) });
    expect(await screen.findByRole('heading', { name: 'This invitation link does not work' })).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('invalid, was already used, or has expired');
    expect(screen.queryByRole('button', { name: 'Accept invitation' })).toBeNull();
  });

  it('leaves the invitation to the accept step when the lookup fails for another reason', async () => {
    window.history.replaceState(null, '', '/accept-invitation?token=inv_token');
    setup({ lookup: () => json(400, { error: 'validation_failed', message: 'token: required' }) });
    expect(await screen.findByText('You were invited to join an organization.')).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'This invitation link does not work' })).toBeNull();
  });
});
