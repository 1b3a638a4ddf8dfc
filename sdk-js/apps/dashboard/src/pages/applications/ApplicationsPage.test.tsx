import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Application, NewApplication } from '../../api/types';
import type { Reauthentication } from '../../account/context';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { ApplicationsPage } from './ApplicationsPage';
import { fieldError } from './CreateApplication';

const BASE = '/v1/accounts/acc_1/instances/live/applications';
const ISSUER = 'http://127.0.0.1:7401/i/ins_live';
const DISCOVERY = `${ISSUER}/.well-known/openid-configuration`;
const ID = 'app_0123456789abcdef0123456789abcdef';

function application(id: string, name: string, extra: Partial<Application> = {}): Application {
  return {
    id,
    name,
    kind: 'web',
    redirect_uris: ['https://app.example.com/callback'],
    post_logout_redirect_uris: [],
    first_party: true,
    created_at: '2026-11-24T10:00:00Z',
    updated_at: '2026-11-24T10:00:00Z',
    issuer: ISSUER,
    discovery_url: DISCOVERY,
    ...extra,
  };
}

function applicationsApi() {
  const apps: Application[] = [application(ID, 'Portal')];
  const cp = new FakeControlPlane()
    .on('GET', BASE, () => ({ issuer: ISSUER, discovery_url: DISCOVERY, data: apps }))
    .on('POST', BASE, (call) => {
      const body = call.body as NewApplication;
      const created = application(`app_${'f'.repeat(31)}${apps.length}`, body.name, {
        kind: body.kind,
        redirect_uris: body.redirect_uris ?? [],
        post_logout_redirect_uris: body.post_logout_redirect_uris ?? [],
        first_party: body.first_party ?? true,
        permissions: body.permissions ?? [],
        organization_selection: body.organization_selection ?? 'none',
        allowed_cors_origins: body.allowed_cors_origins ?? [],
        backchannel_logout_uri: body.backchannel_logout_uri ?? null,
      });
      apps.push(created);
      const confidential = body.kind === 'web' || body.kind === 'machine';
      return json(201, confidential ? { ...created, client_secret: 'acs_shown_once_42' } : created);
    })
    .on('POST', `${BASE}/${ID}/rotate-secret`, () => ({ ...apps[0]!, client_secret: 'acs_rotated_43' }))
    .on('DELETE', `${BASE}/${ID}`, () => {
      apps.splice(0, 1);
      return new Response(null, { status: 204 });
    });
  return { cp, apps };
}

async function addUri(user: ReturnType<typeof userEvent.setup>, label: string, uri: string) {
  await user.type(screen.getByLabelText(label), uri);
  await user.click(screen.getByRole('button', { name: label === 'New redirect URI' ? 'Add redirect URI' : 'Add post-logout URI' }));
}

describe('<ApplicationsPage>', () => {
  it('shows the issuer, the discovery URL and each client id', async () => {
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    const provider = await screen.findByRole('region', { name: 'OpenID Provider' });
    expect(provider).toHaveTextContent(ISSUER);
    expect(provider).toHaveTextContent(DISCOVERY);
    const row = screen.getByRole('row', { name: /Portal/ });
    expect(row).toHaveTextContent(ID);
    expect(row).toHaveTextContent('Web app (server-side)');
    expect(row).toHaveTextContent('https://app.example.com/callback');
    // A first-party application is not marked; a third-party one would be.
    expect(row).not.toHaveTextContent('third-party');
  });

  it('creates a web application and shows its secret once, with a copy button', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    const form = screen.getByRole('form', { name: 'Create an application' });
    await user.type(screen.getByLabelText('Name'), 'Backend');
    await user.click(within(form).getByLabelText(/third-party/));
    await addUri(user, 'New redirect URI', 'https://backend.example.com/callback');
    await addUri(user, 'New post-logout redirect URI', 'https://backend.example.com/bye');
    await user.click(screen.getByRole('button', { name: 'Create application' }));

    const reveal = await screen.findByRole('region', { name: 'Copy the client secret now' });
    expect(reveal).toHaveTextContent("You won't see this secret again");
    expect(within(reveal).getByLabelText('Client secret')).toHaveTextContent('acs_shown_once_42');
    expect(cp.callsTo('POST', BASE)[0]?.body).toEqual({
      name: 'Backend',
      kind: 'web',
      redirect_uris: ['https://backend.example.com/callback'],
      post_logout_redirect_uris: ['https://backend.example.com/bye'],
      first_party: false,
      organization_selection: 'none',
    });
    await user.click(within(reveal).getByRole('button', { name: 'Copy secret' }));
    expect(await navigator.clipboard.readText()).toBe('acs_shown_once_42');
    expect(screen.getAllByText('acs_shown_once_42')).toHaveLength(1);
    await user.click(within(reveal).getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByText('acs_shown_once_42')).toBeNull();
    // The list (which never has it) shows the new application.
    expect(await screen.findByRole('row', { name: /Backend/ })).toHaveTextContent('third-party (asks for consent)');
    expect(document.body.textContent).not.toContain('acs_shown_once_42');
  });

  it('creates an application whose users choose an organization, in a labelled group', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    const group = screen.getByRole('group', { name: 'Organizations' });
    // `none` (today's behaviour) is the default.
    expect(within(group).getByRole('radio', { name: /Do not ask/ })).toBeChecked();
    expect(within(group).getAllByRole('radio')).toHaveLength(3);
    await user.type(screen.getByLabelText('Name'), 'Team app');
    await user.click(within(group).getByRole('radio', { name: /Require one/ }));
    await addUri(user, 'New redirect URI', 'https://team.example.com/callback');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    await screen.findByRole('region', { name: 'Copy the client secret now' });
    expect((cp.callsTo('POST', BASE)[0]?.body as NewApplication).organization_selection).toBe('required');
    expect(await screen.findByRole('row', { name: /Team app/ })).toHaveTextContent('organizations: require one');
    // The form is back at the default; a machine application has no users to ask.
    const reset = screen.getByRole('group', { name: 'Organizations' });
    expect(within(reset).getByRole('radio', { name: /Do not ask/ })).toBeChecked();
    await user.click(screen.getByLabelText(/Machine/));
    expect(screen.queryByRole('group', { name: 'Organizations' })).toBeNull();
  });

  it('creates a public application without a secret to show', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Browser');
    await user.click(screen.getByLabelText(/Single-page app/));
    await addUri(user, 'New redirect URI', 'http://localhost:5173/callback');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('status')).toHaveTextContent('It is public: it has no secret and signs in with PKCE');
    expect(screen.queryByRole('region', { name: 'Copy the client secret now' })).toBeNull();
    expect((cp.callsTo('POST', BASE)[0]?.body as NewApplication).kind).toBe('spa');
  });

  it('creates a single-page application with the browser origins that may call its token endpoint', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    // A web application calls the token endpoint from its server: no origins to list.
    expect(screen.queryByLabelText('New CORS origin')).toBeNull();
    await user.type(screen.getByLabelText('Name'), 'Browser');
    await user.click(screen.getByLabelText(/Single-page app/));
    await addUri(user, 'New redirect URI', 'https://app.example.com/callback');
    await user.type(screen.getByLabelText('New CORS origin'), 'https://app.example.com/callback');
    await user.click(screen.getByRole('button', { name: 'Add CORS origin' }));
    expect(await screen.findByText('Must be an origin like https://app.example.com (no path).')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('New CORS origin'));
    // Written as the browser sends it: lowercase, no trailing slash.
    await user.type(screen.getByLabelText('New CORS origin'), 'HTTPS://App.Example.com/');
    await user.click(screen.getByRole('button', { name: 'Add CORS origin' }));
    expect(screen.getByRole('button', { name: 'Remove https://app.example.com' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('status')).toHaveTextContent('It is public');
    expect((cp.callsTo('POST', BASE)[0]?.body as NewApplication).allowed_cors_origins).toEqual(['https://app.example.com']);
    const row = await screen.findByRole('row', { name: /Browser/ });
    expect(row).toHaveTextContent('CORS origins: https://app.example.com');
  });

  it("shows the instance's refusal next to the CORS origin it names", async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    cp.on('POST', BASE, () =>
      json(400, { error: 'invalid_cors_origin', message: 'allowed_cors_origins[1]: must use https (http only for localhost)' }),
    );
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Native');
    await user.click(screen.getByLabelText(/Native app/));
    for (const origin of ['https://one.example.com', 'https://two.example.com']) {
      await user.type(screen.getByLabelText('New CORS origin'), origin);
      await user.click(screen.getByRole('button', { name: 'Add CORS origin' }));
    }
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Nothing was created: the instance refused the origin marked above.');
    expect(screen.getByRole('button', { name: 'Remove https://two.example.com' })).toHaveAccessibleDescription(
      'Must use https (http only for localhost).',
    );
    expect(screen.getByRole('button', { name: 'Remove https://one.example.com' })).not.toHaveAccessibleDescription();
  });

  it('creates a web application with a back-channel logout URI, and shows the refusal next to it', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Server');
    await addUri(user, 'New redirect URI', 'https://app.example.com/callback');
    await user.type(screen.getByLabelText('Back-channel logout URI (optional)'), 'https://app.example.com/auth/backchannel-logout');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('row', { name: /Server/ })).toHaveTextContent(
      'back-channel logout: https://app.example.com/auth/backchannel-logout',
    );
    expect((cp.callsTo('POST', BASE)[0]?.body as NewApplication).backchannel_logout_uri).toBe(
      'https://app.example.com/auth/backchannel-logout',
    );
    // A public application has no server to tell: no such field.
    await user.click(screen.getByLabelText(/Single-page app/));
    expect(screen.queryByLabelText('Back-channel logout URI (optional)')).toBeNull();

    cp.on('POST', BASE, () =>
      json(400, { error: 'invalid_request', message: 'backchannel_logout_uri: must use https (http only for localhost, 127.0.0.1 or [::1])' }),
    );
    await user.click(screen.getByLabelText(/Web app/));
    await user.type(screen.getByLabelText('Name'), 'Plain');
    await addUri(user, 'New redirect URI', 'https://app.example.com/callback');
    await user.type(screen.getByLabelText('Back-channel logout URI (optional)'), 'http://app.example.com/bc');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('the instance refused the back-channel logout URI marked above');
    expect(screen.getByLabelText('Back-channel logout URI (optional)')).toHaveAccessibleDescription(
      /Must use https \(http only for localhost, 127\.0\.0\.1 or \[::1\]\)\./,
    );
  });

  it("sends the token lifetime and shows the instance's refusal next to it", async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Bank');
    await addUri(user, 'New redirect URI', 'https://bank.example.com/callback');
    await user.type(screen.getByLabelText('Token lifetime in seconds (optional)'), '60');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    await screen.findByRole('row', { name: /Bank/ });
    expect((cp.callsTo('POST', BASE)[0]?.body as NewApplication).access_token_ttl_secs).toBe(60);

    cp.on('POST', BASE, () =>
      json(400, { error: 'invalid_request', message: "access_token_ttl_secs: must be 30 to 300 (this instance's tokens.access_token_ttl_secs)" }),
    );
    await user.type(screen.getByLabelText('Name'), 'Long');
    await addUri(user, 'New redirect URI', 'https://long.example.com/callback');
    await user.type(screen.getByLabelText('Token lifetime in seconds (optional)'), '3600');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('the instance refused the token lifetime marked above');
    expect(screen.getByLabelText('Token lifetime in seconds (optional)')).toHaveAccessibleDescription(/Must be 30 to 300/);
  });

  it('creates a machine application with permissions and no redirect URIs', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Exporter');
    await user.click(screen.getByLabelText(/Machine/));
    expect(screen.queryByLabelText('New redirect URI')).toBeNull();
    await user.type(screen.getByLabelText('New permission'), 'Reports read');
    await user.click(screen.getByRole('button', { name: 'Add permission' }));
    expect(await screen.findByText(/resource:action/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText('New permission'));
    await user.type(screen.getByLabelText('New permission'), 'reports:read');
    await user.click(screen.getByRole('button', { name: 'Add permission' }));
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    const reveal = await screen.findByRole('region', { name: 'Copy the client secret now' });
    expect(within(reveal).getByLabelText('Client secret')).toHaveTextContent('acs_shown_once_42');
    expect(cp.callsTo('POST', BASE)[0]?.body).toEqual({ name: 'Exporter', kind: 'machine', permissions: ['reports:read'] });
    await user.click(within(reveal).getByRole('button', { name: 'I have stored it' }));
    const row = await screen.findByRole('row', { name: /Exporter/ });
    expect(row).toHaveTextContent('reports:read');
    expect(within(row).getByRole('button', { name: 'Rotate secret of Exporter' })).toBeInTheDocument();
  });

  it("shows the instance's refusal next to the redirect URI it names", async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    cp.on('POST', BASE, () =>
      json(400, {
        error: 'invalid_request',
        message: 'redirect_uris[1]: must be written in its normalized form (lowercase scheme and host, explicit path)',
      }),
    );
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Backend');
    await addUri(user, 'New redirect URI', 'https://backend.example.com/callback');
    await addUri(user, 'New redirect URI', 'https://backend.example.com');
    await user.click(screen.getByRole('button', { name: 'Create application' }));

    expect(await screen.findByRole('alert')).toHaveTextContent('Nothing was created: the instance refused the URI marked above.');
    const remove = screen.getByRole('button', { name: 'Remove https://backend.example.com' });
    expect(remove).toHaveAccessibleDescription('Must be written in its normalized form (lowercase scheme and host, explicit path).');
    expect(screen.getByRole('button', { name: 'Remove https://backend.example.com/callback' })).not.toHaveAccessibleDescription();
    expect(screen.queryByRole('region', { name: 'Copy the client secret now' })).toBeNull();
    // Changing the list clears the refusal.
    await user.click(remove);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('checks a redirect URI before sending anything', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await screen.findByRole('row', { name: /Portal/ });
    await addUri(user, 'New redirect URI', 'http://app.example.com/callback');
    expect(await screen.findByRole('alert')).toHaveTextContent('Must use https (http only for localhost).');
    expect(cp.callsTo('POST', BASE)).toHaveLength(0);
  });

  it('rotates a secret only after confirmation and shows the new one once', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Rotate secret of Portal' }));
    const dialog = screen.getByRole('dialog', { name: 'Rotate the secret of “Portal”?' });
    expect(dialog).toHaveTextContent('keep it for a while to switch them over without downtime');
    expect(within(dialog).getByLabelText('Grace period')).toHaveValue('0');
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(cp.callsTo('POST', /rotate-secret$/)).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Rotate secret of Portal' }));
    const again = screen.getByRole('dialog');
    await user.selectOptions(within(again).getByLabelText('Grace period'), 'Keep the old secret for 1 day');
    await user.click(within(again).getByRole('button', { name: 'Rotate secret' }));
    const reveal = await screen.findByRole('region', { name: 'Copy the client secret now' });
    expect(within(reveal).getByLabelText('Client secret')).toHaveTextContent('acs_rotated_43');
    expect(reveal).toHaveTextContent(ID);
    const rotations = cp.callsTo('POST', /rotate-secret$/);
    expect(rotations).toHaveLength(1);
    expect(rotations[0]!.body).toEqual({ grace_period_secs: 86400 });
  });

  it('deletes only after confirmation; Escape cancels', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Delete Portal' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(cp.callsTo('DELETE', /applications/)).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Delete Portal' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete application' }));
    expect(await screen.findByRole('status')).toHaveTextContent('“Portal” is deleted');
    await waitFor(() => expect(screen.queryByRole('row', { name: /Portal/ })).toBeNull());
    expect(screen.getByRole('heading', { name: 'No applications yet' })).toBeInTheDocument();
  });

  it('offers no rotation for a public application', async () => {
    const cp = new FakeControlPlane().on('GET', BASE, () => ({
      issuer: ISSUER,
      discovery_url: DISCOVERY,
      data: [application(ID, 'Mobile', { kind: 'native' })],
    }));
    renderPage(<ApplicationsPage canManage />, cp);
    expect(await screen.findByRole('row', { name: /Mobile/ })).toHaveTextContent('Native app');
    expect(screen.queryByRole('button', { name: /Rotate/ })).toBeNull();
    expect(screen.getByRole('button', { name: 'Delete Mobile' })).toBeInTheDocument();
  });

  it('shows a member the applications without create, rotate or delete', async () => {
    const { cp } = applicationsApi();
    renderPage(<ApplicationsPage canManage={false} />, cp);
    expect(await screen.findByRole('row', { name: /Portal/ })).toBeInTheDocument();
    expect(screen.queryByRole('form', { name: 'Create an application' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Rotate|Delete/ })).toBeNull();
    expect(screen.getByRole('note')).toHaveTextContent('keys:manage');
  });

  it('tells a role without keys:read what it lacks instead of loading', () => {
    const cp = new FakeControlPlane();
    renderPage(<ApplicationsPage canRead={false} canManage={false} />, cp);
    expect(screen.getByRole('note')).toHaveTextContent('does not allow seeing applications');
    expect(cp.calls).toHaveLength(0);
  });

  it('says when the instance is not running, and loads the test instance on request', async () => {
    const user = userEvent.setup();
    const cp = new FakeControlPlane()
      .on('GET', BASE, () => json(409, { error: 'instance_not_running', message: 'the instance is suspended, not running' }))
      .on('GET', '/v1/accounts/acc_1/instances/test/applications', () => ({
        issuer: 'http://127.0.0.1:7401/i/ins_test',
        discovery_url: 'http://127.0.0.1:7401/i/ins_test/.well-known/openid-configuration',
        data: [],
      }));
    renderPage(<ApplicationsPage canManage />, cp);
    expect(await screen.findByRole('alert')).toHaveTextContent('The live instance is not running right now');
    await user.click(screen.getByRole('button', { name: 'Test instance' }));
    expect(await screen.findByRole('region', { name: 'OpenID Provider' })).toHaveTextContent('http://127.0.0.1:7401/i/ins_test');
    expect(screen.getByRole('heading', { name: 'No applications yet' })).toBeInTheDocument();
  });
});

describe('fieldError', () => {
  it("sorts the instance's messages to the fields they name", () => {
    expect(fieldError('redirect_uris[2]: must use https (http only for localhost, 127.0.0.1 or [::1])')).toEqual({
      field: 'redirect',
      index: 2,
      text: 'Must use https (http only for localhost, 127.0.0.1 or [::1]).',
    });
    expect(fieldError('post_logout_redirect_uris[0]: must not contain a fragment')).toMatchObject({ field: 'logout', index: 0 });
    expect(fieldError('name: must be 1 to 200 characters without control characters')).toMatchObject({ field: 'name' });
    expect(fieldError('redirect_uris: at most 20 URIs')).toEqual({ field: 'redirect', index: undefined, text: 'At most 20 URIs.' });
    expect(fieldError('allowed_cors_origins[3]: must not contain wildcards (list each origin)')).toEqual({
      field: 'origins',
      index: 3,
      text: 'Must not contain wildcards (list each origin).',
    });
    expect(fieldError('invalid JSON body')).toBeNull();
  });
});

const PASSWORD = 'correct horse battery';
const REAUTH = { error: 'reauthentication_required', message: 'this needs a sign-in within the last 10 minutes' };

describe('<ApplicationsPage> minting needs a recent sign-in', () => {
  it('asks for the password, signs in again, then creates the application and shows its secret once', async () => {
    const user = userEvent.setup();
    const { cp } = applicationsApi();
    let fresh = false;
    const passwords: string[] = [];
    const reauthentication: Reauthentication = {
      email: 'kate@example.com',
      signIn: async (password) => {
        passwords.push(password);
        fresh = true;
      },
    };
    const created = application(`app_${'e'.repeat(32)}`, 'Backend');
    cp.on('POST', BASE, () => (fresh ? json(201, { ...created, client_secret: 'acs_fresh_44' }) : json(403, REAUTH)));
    renderPage(<ApplicationsPage canManage />, cp, undefined, { reauthentication });
    await screen.findByRole('row', { name: /Portal/ });
    await user.type(screen.getByLabelText('Name'), 'Backend');
    await addUri(user, 'New redirect URI', 'https://app.example.com/callback');
    await user.click(screen.getByRole('button', { name: 'Create application' }));
    const dialog = await screen.findByRole('dialog', { name: 'Confirm your password' });
    expect(dialog).toHaveAccessibleDescription(/Creating an application needs a recent sign-in/);
    expect(screen.queryByLabelText('Client secret')).toBeNull();
    await user.type(within(dialog).getByLabelText('Password'), `${PASSWORD}{Enter}`);
    const reveal = await screen.findByRole('region', { name: 'Copy the client secret now' });
    expect(within(reveal).getByLabelText('Client secret')).toHaveTextContent('acs_fresh_44');
    expect(passwords).toEqual([PASSWORD]);
    expect(cp.callsTo('POST', BASE)).toHaveLength(2);
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});
