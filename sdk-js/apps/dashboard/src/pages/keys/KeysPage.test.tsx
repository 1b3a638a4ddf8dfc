import { AuthStackError } from '@authstack/client';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Reauthentication } from '../../account/context';
import type { ApiKey, KeyCreator } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { KeysPage } from './KeysPage';

function key(id: string, name: string, extra: Partial<ApiKey> = {}): ApiKey {
  return {
    id,
    name,
    kind: 'publishable',
    environment: 'live',
    instance_id: 'ins_live',
    display_prefix: 'ask_live_ab',
    created_at: '2026-11-24T10:00:00Z',
    last_used_at: null,
    expires_at: null,
    revoked_at: null,
    replaced_by: null,
    created_by: null,
    ...extra,
  };
}

function keysApi() {
  const keys = [key('key_1', 'Web app')];
  const cp = new FakeControlPlane()
    .on('GET', '/v1/accounts/acc_1/keys', () => ({ data: keys }))
    .on('POST', '/v1/accounts/acc_1/keys', (call) => {
      const body = call.body as { name: string; environment: 'live' | 'test'; kind: 'publishable' | 'secret' };
      const k = key(`key_${keys.length + 1}`, body.name, { environment: body.environment, kind: body.kind });
      keys.push(k);
      return json(201, { ...k, secret: 'ask_secret_test_0123456789' });
    })
    .on('POST', /\/keys\/key_1\/rotate$/, () => {
      keys[0] = { ...keys[0]!, replaced_by: 'key_9', expires_at: '2099-01-01T00:00:00Z' };
      keys.push(key('key_9', 'Web app'));
      return json(201, { ...key('key_9', 'Web app'), secret: 'ask_live_rotated999' });
    })
    .on('DELETE', /\/keys\/key_1$/, () => {
      keys[0] = { ...keys[0]!, revoked_at: '2026-11-24T11:00:00Z' };
      return new Response(null, { status: 204 });
    });
  return { cp, keys };
}

describe('<KeysPage>', () => {
  it('creates a secret key and reveals it once, with a copy button', async () => {
    const user = userEvent.setup();
    const { cp } = keysApi();
    renderPage(<KeysPage canManage />, cp);
    await screen.findByRole('row', { name: /Web app/ });
    await user.type(screen.getByLabelText('Name'), 'Backend');
    await user.click(screen.getByLabelText('Secret (server)'));
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    const reveal = await screen.findByRole('region', { name: 'Copy your new key now' });
    expect(within(reveal).getByLabelText('New key')).toHaveTextContent('ask_secret_test_0123456789');
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')[0]?.body).toEqual({ name: 'Backend', environment: 'test', kind: 'secret' });
    await user.click(within(reveal).getByRole('button', { name: 'Copy key' }));
    expect(await navigator.clipboard.readText()).toBe('ask_secret_test_0123456789');
    await user.click(within(reveal).getByRole('button', { name: 'I have stored it' }));
    expect(screen.queryByText('ask_secret_test_0123456789')).toBeNull();
    expect(await screen.findByRole('row', { name: /Backend/ })).toHaveTextContent('Never');
  });

  it('rotates with the chosen grace period and shows the replacement', async () => {
    const user = userEvent.setup();
    const { cp } = keysApi();
    renderPage(<KeysPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Rotate Web app' }));
    const dialog = screen.getByRole('dialog', { name: 'Rotate “Web app”?' });
    expect(within(dialog).getByLabelText('Grace period')).toHaveFocus();
    await user.selectOptions(within(dialog).getByLabelText('Grace period'), '3600');
    await user.click(within(dialog).getByRole('button', { name: 'Rotate key' }));
    expect(await screen.findByLabelText('New key')).toHaveTextContent('ask_live_rotated999');
    expect(cp.callsTo('POST', /rotate$/)[0]?.body).toEqual({ grace_period_secs: 3600 });
    await waitFor(() => expect(screen.getAllByRole('row', { name: /Web app/ })[0]).toHaveTextContent('Rotated: works until'));
  });

  it('revokes only after confirmation; Escape cancels', async () => {
    const user = userEvent.setup();
    const { cp } = keysApi();
    renderPage(<KeysPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Revoke Web app' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(cp.callsTo('DELETE', /keys/)).toHaveLength(0);
    await user.click(screen.getByRole('button', { name: 'Revoke Web app' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Revoke key' }));
    expect(await screen.findByRole('status')).toHaveTextContent('“Web app” is revoked');
    await waitFor(() => expect(screen.getByRole('row', { name: /Web app/ })).toHaveTextContent('Revoked'));
  });

  it('says in plain words when the role may not rotate keys', async () => {
    const user = userEvent.setup();
    const { cp } = keysApi();
    cp.on('POST', /rotate$/, () => json(403, { error: 'forbidden', message: "this action needs the permission 'keys:manage' in the account" }));
    renderPage(<KeysPage canManage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Rotate Web app' }));
    await user.click(screen.getByRole('button', { name: 'Rotate key' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Your role in this account does not allow this');
  });

  it('has an empty state', async () => {
    renderPage(<KeysPage canManage />, new FakeControlPlane().on('GET', '/v1/accounts/acc_1/keys', () => ({ data: [] })));
    expect(await screen.findByRole('heading', { name: 'No keys yet' })).toBeInTheDocument();
  });

  it('shows a Viewer the keys without create, rotate or revoke', async () => {
    const { cp } = keysApi();
    renderPage(<KeysPage canManage={false} />, cp);
    expect(await screen.findByRole('row', { name: /Web app/ })).toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Create a key' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /Rotate|Revoke/ })).not.toBeInTheDocument();
    expect(screen.getByRole('note')).toHaveTextContent('keys:manage');
  });

  it('tells a role without keys:read what it lacks instead of loading', async () => {
    const cp = new FakeControlPlane();
    renderPage(<KeysPage canRead={false} canManage={false} />, cp);
    expect(screen.getByRole('note')).toHaveTextContent('does not allow seeing API keys');
    expect(screen.queryByRole('heading', { name: 'Create a key' })).not.toBeInTheDocument();
    expect(cp.callsTo('GET', '/v1/accounts/acc_1/keys')).toHaveLength(0);
  });
});

const by = (email: string, member: boolean | null): KeyCreator => ({ user_id: `usr_${email.split('@')[0]}`, email, member });
const DEPARTED = /made by a member who has left/i;

describe('<KeysPage> who made each key', () => {
  function madeBy() {
    const keys = [
      key('key_1', 'Web app', { created_by: by('kate@example.com', true) }),
      key('key_2', 'Old CI', { kind: 'secret', created_by: by('leo@example.com', false) }),
      key('key_3', 'Gone', { created_by: by('leo@example.com', false), revoked_at: '2026-11-24T11:00:00Z' }),
      key('key_4', 'Unchecked', { created_by: by('max@example.com', null) }),
      key('key_5', 'Legacy'),
      key('key_6', 'Leaving', { created_by: by('leo@example.com', false), replaced_by: 'key_7', expires_at: '2099-01-01T00:00:00Z' }),
      key('key_8', 'Ended', { created_by: by('leo@example.com', false), expires_at: '2026-11-25T00:00:00Z' }),
    ];
    const cp = new FakeControlPlane()
      .on('GET', '/v1/accounts/acc_1/keys', () => ({ data: keys }))
      .on('DELETE', /\/keys\/key_2$/, () => {
        keys[1] = { ...keys[1]!, revoked_at: '2026-11-24T12:00:00Z' };
        return new Response(null, { status: 204 });
      });
    return { cp, keys };
  }

  it('names the maker, and warns only about working keys of members who have left', async () => {
    renderPage(<KeysPage canManage />, madeBy().cp);
    const row = (name: string) => screen.getByRole('row', { name: new RegExp(`^${name}\\b`) });
    await screen.findByRole('row', { name: /Web app/ });
    expect(screen.getByRole('columnheader', { name: 'Made by' })).toBeInTheDocument();
    expect(row('Web app')).toHaveTextContent('kate@example.com');
    expect(row('Web app')).not.toHaveTextContent(DEPARTED);
    expect(row('Old CI')).toHaveTextContent('leo@example.com');
    expect(within(row('Old CI')).getByText(DEPARTED)).toHaveClass('badge-warning');
    // Still works through its grace period: still a risk.
    expect(row('Leaving')).toHaveTextContent(DEPARTED);
    // Revoked or expired: no longer a risk.
    expect(row('Gone')).toHaveTextContent('leo@example.com');
    expect(row('Gone')).not.toHaveTextContent(DEPARTED);
    expect(row('Ended')).not.toHaveTextContent(DEPARTED);
    // Membership unknown (no members:read), or no maker recorded: no warning.
    expect(row('Unchecked')).toHaveTextContent('max@example.com');
    expect(row('Unchecked')).not.toHaveTextContent(DEPARTED);
    expect(row('Legacy')).toHaveTextContent('Not recorded');
    expect(row('Legacy')).not.toHaveTextContent(DEPARTED);
    expect(screen.getByText(/were made by members who have left/)).toHaveTextContent(
      '2 keys were made by members who have left: rotate or revoke them.',
    );
    expect(within(row('Old CI')).getByRole('button', { name: 'Revoke Old CI' })).toBeInTheDocument();
  });

  it('drops the revoked key from the warning', async () => {
    const user = userEvent.setup();
    renderPage(<KeysPage canManage />, madeBy().cp);
    await user.click(await screen.findByRole('button', { name: 'Revoke Old CI' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Revoke key' }));
    expect(await screen.findByText(/was made by a member who has left/)).toHaveTextContent(
      '1 key was made by a member who has left: rotate or revoke it.',
    );
    expect(screen.getByRole('row', { name: /^Old CI/ })).not.toHaveTextContent(DEPARTED);
  });

  it('has no warning when every maker is a member or unknown', async () => {
    const keys = [key('key_1', 'Web app', { created_by: by('kate@example.com', true) }), key('key_2', 'CI', { created_by: by('max@example.com', null) }), key('key_3', 'Legacy')];
    renderPage(<KeysPage canManage />, new FakeControlPlane().on('GET', '/v1/accounts/acc_1/keys', () => ({ data: keys })));
    expect(await screen.findByRole('row', { name: /Web app/ })).toHaveTextContent('kate@example.com');
    expect(screen.queryByText(/who (has|have) left/i)).toBeNull();
  });
});

const PASSWORD = 'correct horse battery';
const REAUTH = { error: 'reauthentication_required', message: 'this needs a sign-in within the last 10 minutes' };

/** The control plane asks for a fresh sign-in until `signIn` succeeds; records the passwords tried. */
function reauthApi() {
  const { cp, keys } = keysApi();
  let fresh = false;
  const passwords: string[] = [];
  const reauthentication: Reauthentication = {
    email: 'kate@example.com',
    signIn: async (password) => {
      passwords.push(password);
      if (password !== PASSWORD) throw new AuthStackError('invalid_credentials', 401, 'the email or password is incorrect');
      fresh = true;
    },
  };
  cp.on('POST', '/v1/accounts/acc_1/keys', (call) => {
    const body = call.body as { name: string; environment: 'live' | 'test'; kind: 'publishable' | 'secret' };
    if (body.kind === 'secret' && !fresh) return json(403, REAUTH);
    const k = key(`key_${keys.length + 1}`, body.name, { ...body, created_by: by('kate@example.com', true) });
    keys.push(k);
    return json(201, { ...k, secret: 'ask_secret_fresh_42' });
  });
  cp.on('POST', /\/keys\/key_1\/rotate$/, () => {
    if (!fresh) return json(403, REAUTH);
    keys.push(key('key_9', 'Web app'));
    return json(201, { ...key('key_9', 'Web app'), secret: 'ask_secret_rotated_42' });
  });
  return { cp, passwords, reauthentication };
}

async function createSecret(user: ReturnType<typeof userEvent.setup>) {
  await screen.findByRole('row', { name: /Web app/ });
  await user.type(screen.getByLabelText('Name'), 'Backend');
  await user.click(screen.getByLabelText('Secret (server)'));
  await user.click(screen.getByRole('button', { name: 'Create key' }));
  return screen.findByRole('dialog', { name: 'Confirm your password' });
}

describe('<KeysPage> a secret key needs a recent sign-in', () => {
  it('asks for the password, signs in again and creates the key, shown once', async () => {
    const user = userEvent.setup();
    const { cp, passwords, reauthentication } = reauthApi();
    renderPage(<KeysPage canManage />, cp, undefined, { reauthentication });
    const dialog = await createSecret(user);
    expect(dialog).toHaveAccessibleDescription(/Creating a secret key needs a recent sign-in.*kate@example\.com/);
    const password = within(dialog).getByLabelText('Password');
    expect(password).toHaveFocus();
    expect(password).toHaveAttribute('type', 'password');
    expect(password).toHaveAttribute('autocomplete', 'current-password');
    expect(screen.queryByLabelText('New key')).toBeNull();
    await user.type(password, `${PASSWORD}{Enter}`);
    const reveal = await screen.findByRole('region', { name: 'Copy your new key now' });
    expect(within(reveal).getByLabelText('New key')).toHaveTextContent('ask_secret_fresh_42');
    expect(screen.getAllByText('ask_secret_fresh_42')).toHaveLength(1);
    expect(passwords).toEqual([PASSWORD]);
    const posts = cp.callsTo('POST', '/v1/accounts/acc_1/keys');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toEqual({ name: 'Backend', environment: 'test', kind: 'secret' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(await screen.findByRole('row', { name: /Backend/ })).toHaveTextContent('kate@example.com');
  });

  it('says so when the password is wrong, and does not send again until it is right', async () => {
    const user = userEvent.setup();
    const { cp, passwords, reauthentication } = reauthApi();
    renderPage(<KeysPage canManage />, cp, undefined, { reauthentication });
    const dialog = await createSecret(user);
    await user.type(within(dialog).getByLabelText('Password'), 'wrong password{Enter}');
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('That password is not correct. Try again.');
    const password = within(dialog).getByLabelText('Password');
    expect(password).toHaveFocus();
    expect(password).toHaveValue('');
    expect(password).toHaveAttribute('aria-invalid', 'true');
    expect(password).toHaveAccessibleDescription('That password is not correct. Try again.');
    expect(passwords).toEqual(['wrong password']);
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')).toHaveLength(1);
    expect(screen.queryByLabelText('New key')).toBeNull();
    await user.type(password, `${PASSWORD}{Enter}`);
    expect(await screen.findByLabelText('New key')).toHaveTextContent('ask_secret_fresh_42');
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')).toHaveLength(2);
  });

  it('leaves everything as it was on Cancel or Escape', async () => {
    const user = userEvent.setup();
    const { cp, passwords, reauthentication } = reauthApi();
    renderPage(<KeysPage canManage />, cp, undefined, { reauthentication });
    const dialog = await createSecret(user);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(screen.getByRole('button', { name: 'Create key' })).toHaveFocus();
    expect(screen.getByLabelText('Name')).toHaveValue('Backend');
    expect(screen.getByLabelText('Secret (server)')).toBeChecked();
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.queryByLabelText('New key')).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByRole('dialog', { name: 'Confirm your password' });
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(passwords).toEqual([]);
    expect(cp.callsTo('POST', '/v1/accounts/acc_1/keys')).toHaveLength(2);
    expect(screen.getAllByRole('row')).toHaveLength(2);
  });

  it('signs in again to rotate, and keeps the rotation open on Cancel', async () => {
    const user = userEvent.setup();
    const { cp, reauthentication } = reauthApi();
    renderPage(<KeysPage canManage />, cp, undefined, { reauthentication });
    await user.click(await screen.findByRole('button', { name: 'Rotate Web app' }));
    await user.click(screen.getByRole('button', { name: 'Rotate key' }));
    const dialog = await screen.findByRole('dialog', { name: 'Confirm your password' });
    expect(dialog).toHaveAccessibleDescription(/^Rotating a secret key needs a recent sign-in/);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.getByRole('dialog', { name: 'Rotate “Web app”?' })).toBeInTheDocument();
    expect(cp.callsTo('POST', /rotate$/)).toHaveLength(1);
    await user.click(screen.getByRole('button', { name: 'Rotate key' }));
    await user.type(await screen.findByLabelText('Password'), `${PASSWORD}{Enter}`);
    expect(await screen.findByLabelText('New key')).toHaveTextContent('ask_secret_rotated_42');
    expect(cp.callsTo('POST', /rotate$/)).toHaveLength(3);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('says in plain words what to do when signing in again is not offered', async () => {
    const user = userEvent.setup();
    const { cp } = reauthApi();
    renderPage(<KeysPage canManage />, cp);
    await screen.findByRole('row', { name: /Web app/ });
    await user.type(screen.getByLabelText('Name'), 'Backend');
    await user.click(screen.getByLabelText('Secret (server)'));
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This needs a recent sign-in');
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});
