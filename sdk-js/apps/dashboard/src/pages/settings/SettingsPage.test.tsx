import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeControlPlane, json, renderPage, revision } from '../../../test/fake-control-plane';
import { SettingsPage } from './SettingsPage';

const BASE = '/v1/accounts/acc_1/instances';

/** The revision the instance runs (and the last healthy one). */
const running = (number: number) => revision(number, { current: true, last_healthy: true });

function initialConfig() {
  return {
    passwords: { min_length: 8 },
    security: { allowed_origins: ['https://app.example.com'], redirect_uris: ['https://app.example.com/callback'], admin_ip_allowlist: [] },
    branding: { primary_color: '#4f46e5', logo_url: null, appearance: 'light' },
    organizations: { permissions: ['projects:create'], role_grants: { admin: ['projects:create'], member: [], viewer: [] } },
  };
}

const diff = {
  changes: [{ path: 'branding.primary_color', kind: 'changed', from: '#4f46e5', to: '#ff0000' }],
  text: '~ branding.primary_color',
};

/** A live instance at revision 4; saving origins or a revision makes the next one wanted. */
function settingsApi() {
  const state = { wanted: 4, config: initialConfig() as Record<string, unknown> };
  const cp = new FakeControlPlane()
    .on('GET', `${BASE}/live/revisions`, () => ({
      data: [running(state.wanted)],
      revision: state.wanted,
      current_revision: state.wanted,
      last_healthy_revision: state.wanted,
      next_before: null,
    }))
    .on('GET', /\/live\/revisions\/\d+$/, (call) => ({ ...running(Number(call.path.split('/').pop())), config: state.config }))
    .on('PUT', `${BASE}/live/allowed-origins`, (call) => {
      const origins = (call.body as { allowed_origins: string[] }).allowed_origins;
      state.config = { ...state.config, security: { ...(state.config['security'] as object), allowed_origins: origins } };
      state.wanted++;
      return { id: 'ins_live', allowed_origins: origins };
    })
    .on('POST', `${BASE}/live/revisions`, (call) => {
      const body = call.body as { dry_run?: boolean };
      if (body.dry_run) return { valid: true, errors: [], base_revision: state.wanted, diff, security_notes: ['Sign-in screens change for every user.'] };
      state.wanted++;
      return json(201, { valid: true, errors: [], base_revision: state.wanted - 1, diff, security_notes: [], revision: running(state.wanted) });
    })
    .on('POST', /\/live\/revisions\/\d+\/deploy$/, (call) => ({
      revision: Number(call.path.split('/')[7]),
      outcome: 'deployed',
      detail: null,
      current_revision: Number(call.path.split('/')[7]),
      state: 'ready',
    }))
    .on('GET', `${BASE}/test/revisions`, () => json(404, { error: 'not_found', message: 'instance not found' }));
  return { cp, state };
}

describe('<SettingsPage>', () => {
  it('adds an allowed origin, checked like the server, and saves the list', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    const origins = await screen.findByRole('list', { name: 'Origins' });
    expect(within(origins).getByText('https://app.example.com')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Save allowed origins' })).toBeDisabled();

    await user.type(screen.getByLabelText('New origin'), 'http://example.com{Enter}');
    expect(await screen.findByText('Must use https (http only for localhost).')).toBeInTheDocument();
    expect(screen.getByLabelText('New origin')).toHaveAttribute('aria-invalid', 'true');
    await user.clear(screen.getByLabelText('New origin'));
    await user.type(screen.getByLabelText('New origin'), 'HTTP://LocalHost:5173/{Enter}');
    expect(within(origins).getByText('http://localhost:5173')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Save allowed origins' }));

    expect(await screen.findByText('Allowed origins of the live instance saved. Revision 5 is deployed.')).toBeInTheDocument();
    // A revision by the dashboard, not the allowed-origins PUT (which records the source "api").
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)[0]?.body).toEqual({
      merge: { security: { allowed_origins: ['https://app.example.com', 'http://localhost:5173'] } },
      summary: 'allowed origins changed',
      source: 'dashboard',
    });
    expect(cp.callsTo('PUT', `${BASE}/live/allowed-origins`)).toHaveLength(0);
    expect(cp.callsTo('POST', `${BASE}/live/revisions/5/deploy`)).toHaveLength(1);
    // Reloaded from the new wanted revision.
    await waitFor(() => expect(cp.callsTo('GET', `${BASE}/live/revisions/5`)).toHaveLength(1));
  });

  it('shows the server’s refusal of an origin next to it', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    cp.on('POST', `${BASE}/live/revisions`, () =>
      json(422, {
        error: 'invalid_config',
        message: 'the configuration is invalid: …',
        errors: [{ path: 'security.allowed_origins[1]', message: "'https://staging.example.com': not reachable from the gateway" }],
      }),
    );
    renderPage(<SettingsPage canManage />, cp);
    await user.type(await screen.findByLabelText('New origin'), 'https://staging.example.com{Enter}');
    await user.click(screen.getByRole('button', { name: 'Save allowed origins' }));
    const remove = await screen.findByRole('button', { name: 'Remove https://staging.example.com' });
    await waitFor(() => expect(remove).toHaveAccessibleDescription("'https://staging.example.com': not reachable from the gateway."));
    expect(screen.getByText('Nothing was saved: the origin marked above was refused.').closest('[role="alert"]')).not.toBeNull();
    expect(screen.queryByRole('button', { name: 'Remove https://app.example.com' })).not.toHaveAccessibleDescription();
    expect(cp.callsTo('POST', /\/deploy$/)).toHaveLength(0);
  });

  it('previews branding live, edits permissions and role grants, then saves a revision after a dry run and deploys it', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    const color = await screen.findByLabelText('Primary color');
    const preview = screen.getByTestId('branding-preview');
    expect(preview).toHaveAttribute('data-color', '#4f46e5');
    expect(await within(preview).findByRole('heading', { name: 'Sign in' })).toBeInTheDocument();

    await user.clear(color);
    await user.type(color, '#ff0000');
    expect(preview).toHaveAttribute('data-color', '#ff0000');
    const root = preview.querySelector<HTMLElement>('.authstack');
    expect(root?.style.getPropertyValue('--authstack-color-primary')).toBe('#ff0000');
    await user.click(screen.getByRole('radio', { name: 'Dark' }));
    expect(preview).toHaveAttribute('data-scheme', 'dark');
    expect(preview.querySelector('.authstack--dark')).not.toBeNull();
    await user.type(screen.getByLabelText('Logo URL'), 'https://cdn.example.com/logo.svg');
    expect(within(preview).getByRole('img', { name: 'Your logo' })).toHaveAttribute('src', 'https://cdn.example.com/logo.svg');

    await user.type(screen.getByLabelText('New permission'), 'Projects:Delete{Enter}');
    expect(await screen.findByText(/is not a permission of the form resource:action/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText('New permission'));
    await user.type(screen.getByLabelText('New permission'), 'billing:read{Enter}');
    expect(await screen.findByText('“billing:read” is built in already.')).toBeInTheDocument();
    await user.clear(screen.getByLabelText('New permission'));
    await user.type(screen.getByLabelText('New permission'), 'projects:delete{Enter}');
    expect(screen.getByRole('checkbox', { name: 'Admin: members:read' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Admin: members:read' })).toBeDisabled();
    expect(screen.getByRole('checkbox', { name: 'Admin: projects:create' })).toBeChecked();
    await user.click(screen.getByRole('checkbox', { name: 'Member: projects:delete' }));

    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    const table = await screen.findByRole('table', { name: 'What saving changes on the live instance, against revision 4' });
    expect(within(table).getByRole('row', { name: /branding.primary_color/ })).toHaveTextContent('#ff0000');
    expect(screen.getByRole('note', { name: 'Security notes' })).toHaveTextContent('Sign-in screens change for every user.');
    const merge = {
      branding: { primary_color: '#ff0000', logo_url: 'https://cdn.example.com/logo.svg', appearance: 'dark' },
      organizations: { permissions: ['projects:create', 'projects:delete'], role_grants: { member: ['projects:delete'] } },
    };
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)[0]?.body).toEqual({ merge, dry_run: true, source: 'dashboard' });

    await user.type(screen.getByLabelText('Summary (optional)'), 'Red brand');
    await user.click(screen.getByRole('button', { name: 'Save and deploy' }));
    expect(await screen.findByText('Revision 5 is deployed.')).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)[1]?.body).toEqual({ merge, summary: 'Red brand', source: 'dashboard' });
    expect(cp.callsTo('POST', `${BASE}/live/revisions/5/deploy`)[0]?.query.get('wait')).toBe('true');
  });

  it('never signs anyone in from the preview', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    const preview = await screen.findByRole('region', { name: 'Sign-in preview' });
    expect(preview).toHaveTextContent('Preview — sign-in is disabled here.');
    await user.type(await within(preview).findByLabelText('Email address'), 'ada@example.com');
    await user.type(within(preview).getByLabelText('Password'), 'correct horse battery{Enter}');
    await waitFor(() => expect(within(preview).getByRole('alert')).toHaveTextContent('Preview — sign-in is disabled here.'));
    expect(cp.calls.every((c) => c.method === 'GET')).toBe(true);
  });

  it('puts 422 field errors next to the fields they are about and saves nothing', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    cp.on('POST', `${BASE}/live/revisions`, (call) =>
      (call.body as { dry_run?: boolean }).dry_run
        ? { valid: true, errors: [], base_revision: 4, diff, security_notes: [] }
        : json(422, {
            error: 'invalid_config',
            message: 'the configuration is invalid: …',
            errors: [
              { path: 'security.redirect_uris[1]', message: 'must not point to the instance itself' },
              { path: 'branding.logo_url', message: 'must use https (http only for localhost)' },
              { path: 'organizations.permissions', message: 'organizations.permissions[0]: `projects:create` is listed twice or is built in' },
              { path: 'passwords.min_length', message: 'must be at least 6' },
            ],
          }),
    );
    renderPage(<SettingsPage canManage />, cp);
    await user.type(await screen.findByLabelText('New redirect URI'), 'https://auth.example.com/done{Enter}');
    await user.type(screen.getByLabelText('Logo URL'), 'https://cdn.example.com/logo.png');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save and deploy' }));

    expect(await screen.findByText(/Nothing was saved: the configuration is not valid/)).toBeInTheDocument();
    const redirects = screen.getByRole('list', { name: 'Redirect URIs' });
    const item = within(redirects).getByText('https://auth.example.com/done').closest('li')!;
    expect(item).toHaveTextContent('Must not point to the instance itself.');
    expect(screen.getByLabelText('Logo URL')).toHaveAccessibleDescription('Must use https (http only for localhost).');
    expect(screen.getByLabelText('Logo URL')).toHaveAttribute('aria-invalid', 'true');
    const permissions = screen.getByRole('list', { name: 'Your permissions' });
    expect(within(permissions).getByText('projects:create').closest('li')).toHaveTextContent('is listed twice or is built in');
    expect(screen.getByText('Also not valid:').closest('[role="alert"]')).toHaveTextContent('passwords.min_length must be at least 6');
    expect(cp.callsTo('POST', /\/deploy$/)).toHaveLength(0);
    expect(document.body.textContent).not.toContain('{"error"');
  });

  it('shows an invalid dry run by field and offers no save', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    cp.on('POST', `${BASE}/live/revisions`, () => ({
      valid: false,
      errors: [{ path: 'organizations.permissions', message: 'organizations.role_grants.member[0]: `projects:create` is not in the permission catalogue' }],
      base_revision: 4,
      diff: { changes: [], text: '' },
      security_notes: [],
    }));
    renderPage(<SettingsPage canManage />, cp);
    await user.click(await screen.findByRole('checkbox', { name: 'Member: projects:create' }));
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(await screen.findByText(/is not in the permission catalogue/)).toBeInTheDocument();
    expect(screen.getByText(/This change is not valid; nothing was saved/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Save and deploy' })).toBeNull();
  });

  it('checks the colour and logo before asking the server', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    const color = await screen.findByLabelText('Primary color');
    await user.clear(color);
    await user.type(color, 'red');
    // The preview keeps the last valid colour.
    expect(screen.getByTestId('branding-preview')).toHaveAttribute('data-color', '#4f46e5');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(color).toHaveAccessibleDescription('Must be a hex color like #4f46e5.');
    expect(color).toHaveFocus();
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)).toHaveLength(0);
  });

  it('shows readers the values without a way to change them', async () => {
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage={false} />, cp);
    expect(await screen.findByRole('list', { name: 'Origins' })).toHaveTextContent('https://app.example.com');
    expect(screen.getByRole('note')).toHaveTextContent('Changing them needs the instances:manage permission');
    expect(screen.queryByLabelText('New origin')).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Save allowed origins' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Preview changes' })).toBeNull();
    expect(screen.getByLabelText('Primary color')).toHaveAttribute('readonly');
    expect(screen.getByRole('checkbox', { name: 'Member: projects:create' })).toBeDisabled();
    expect(screen.getByRole('radio', { name: 'Dark' })).toBeDisabled();
  });

  it('explains a missing instance and leads to the plans', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    await screen.findByRole('list', { name: 'Origins' });
    await user.click(screen.getByRole('button', { name: 'Test instance' }));
    expect(await screen.findByRole('heading', { name: 'No test instance' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'Choose a plan' })).toHaveAttribute('href', '/plans');
  });

  it('notes every field the instance records but does not act on, going by /v1/capabilities', async () => {
    const { cp } = settingsApi();
    cp.on('GET', '/v1/capabilities', () => ({
      settings: [
        { path: 'security.redirect_uris', label: 'Redirect URIs', active: false },
        { path: 'auth.social', label: 'Social sign-in', active: false },
        { path: 'branding', label: 'Branding', active: true },
      ],
      plan_features: [],
    }));
    renderPage(<SettingsPage canManage />, cp);
    const redirects = (await screen.findByRole('heading', { name: 'Redirect URIs' })).closest('.card') as HTMLElement;
    await waitFor(() => expect(redirects).toHaveTextContent('Recorded — this instance does not act on it yet.'));
    expect(screen.getAllByText('Recorded — this instance does not act on it yet.')).toHaveLength(1);
    const origins = screen.getByRole('heading', { name: 'Allowed origins' }).closest('.card') as HTMLElement;
    expect(origins).not.toHaveTextContent('Recorded');
  });

  it('sets, checks and clears the mail link address as a revision by the dashboard', async () => {
    const user = userEvent.setup();
    const { cp, state } = settingsApi();
    state.config = { ...state.config, mail: { link_base_url: 'https://old.example.com' } };
    renderPage(<SettingsPage canManage />, cp);
    const field = await screen.findByLabelText('Link address (optional)');
    expect(field).toHaveValue('https://old.example.com');
    await user.clear(field);
    await user.type(field, 'ftp://files.example.com');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(field).toHaveAccessibleDescription('Must be an http or https URL.');
    expect(field).toHaveFocus();
    await user.clear(field);
    await user.type(field, 'not a url');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    expect(field).toHaveAccessibleDescription('Must be an absolute URL like https://app.example.com.');
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)).toHaveLength(0);

    await user.clear(field);
    await user.type(field, 'http://localhost:5173');
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    await user.click(await screen.findByRole('button', { name: 'Save and deploy' }));
    expect(await screen.findByText('Revision 5 is deployed.')).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)[1]?.body).toEqual({ merge: { mail: { link_base_url: 'http://localhost:5173' } }, source: 'dashboard' });
  });

  it('clears the mail link address when emptied', async () => {
    const user = userEvent.setup();
    const { cp, state } = settingsApi();
    state.config = { ...state.config, mail: { link_base_url: 'https://old.example.com' } };
    renderPage(<SettingsPage canManage />, cp);
    await user.clear(await screen.findByLabelText('Link address (optional)'));
    await user.click(screen.getByRole('button', { name: 'Preview changes' }));
    await waitFor(() => expect(cp.callsTo('POST', `${BASE}/live/revisions`)).toHaveLength(1));
    expect(cp.callsTo('POST', `${BASE}/live/revisions`)[0]?.body).toEqual({ merge: { mail: { link_base_url: null } }, dry_run: true, source: 'dashboard' });
  });

  it('warns, with the ratio, when white button text on the primary colour fails WCAG AA', async () => {
    const user = userEvent.setup();
    const { cp } = settingsApi();
    renderPage(<SettingsPage canManage />, cp);
    const color = await screen.findByLabelText('Primary color');
    // #4f46e5 passes (6.29:1).
    expect(screen.queryByText(/WCAG AA/)).toBeNull();
    await user.clear(color);
    await user.type(color, '#6366f1');
    const warning = screen.getByText(/WCAG AA/);
    expect(warning.closest('[role="status"]')).not.toBeNull();
    expect(warning).toHaveTextContent('contrast of 4.46:1, below the 4.5:1');
    await user.clear(color);
    await user.type(color, '#0f766e');
    expect(screen.queryByText(/WCAG AA/)).toBeNull();
  });
});
