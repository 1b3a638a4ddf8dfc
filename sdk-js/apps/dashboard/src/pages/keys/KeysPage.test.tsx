import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../api/types';
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
