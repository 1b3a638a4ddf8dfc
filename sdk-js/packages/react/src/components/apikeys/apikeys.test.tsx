import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { acme, renderWithAuth } from '../../../test/render';
import { OrganizationApiKeys } from './OrganizationApiKeys';

describe('<OrganizationApiKeys>', () => {
  it('creates a key with chosen permissions, shows it once, and revokes it', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    const onApiKeyCreated = vi.fn();
    await renderWithAuth(<OrganizationApiKeys onApiKeyCreated={onApiKeyCreated} />, {
      fake,
      signIn: 'ada@example.com',
      organizationId: org.id,
    });
    expect(await screen.findByText('No API keys yet.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Key name'), 'CI');
    const editor = await screen.findByRole('group', { name: 'Permissions' });
    await user.click(await within(editor).findByRole('checkbox', { name: 'members:read' }));
    await user.click(screen.getByRole('button', { name: 'Create key' }));
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Key CI created.'));
    const secret = org.apiKeys[0]!.key;
    expect(screen.getByLabelText('The new key')).toHaveValue(secret);
    expect(onApiKeyCreated).toHaveBeenCalledWith(
      expect.objectContaining({ key: secret, api_key: expect.objectContaining({ name: 'CI', permissions: ['members:read'] }) }),
    );
    expect(fake.requests.find((r) => r.method === 'POST' && r.path.endsWith('/api-keys'))?.body).toEqual({
      name: 'CI',
      permissions: ['members:read'],
    });
    // Listed by its last four characters, never in full.
    const item = (await screen.findByText('CI')).closest('li')!;
    expect(item).toHaveTextContent(`ask_org_…${secret.slice(-4)}`);
    expect(item).not.toHaveTextContent(secret);
    expect(item).toHaveTextContent('Never used');

    await user.click(screen.getByRole('button', { name: 'Revoke key CI' }));
    await waitFor(() => expect(within(item).getByText('revoked')).toBeInTheDocument());
    expect(org.apiKeys[0]!.revoked).toBe(true);
    expect(screen.queryByRole('button', { name: 'Revoke key CI' })).not.toBeInTheDocument();
  });

  it('shows the API’s refusal of a permission the user does not hold', async () => {
    const user = userEvent.setup();
    const { fake, org } = acme();
    org.members.set(fake.users.get('ada@example.com')!.id, 'admin');
    fake.failNext('POST', /\/api-keys$/, () =>
      new Response(
        JSON.stringify({
          error: 'forbidden',
          message: 'you cannot create this API key: it includes permissions you do not hold (organization:delete)',
        }),
        { status: 403, headers: { 'content-type': 'application/json' } },
      ),
    );
    await renderWithAuth(<OrganizationApiKeys />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    await screen.findByText('No API keys yet.');
    const editor = await screen.findByRole('group', { name: 'Permissions' });
    await waitFor(() => expect(within(editor).getByRole('checkbox', { name: 'organization:delete' })).toBeDisabled());
    await user.type(screen.getByLabelText('Key name'), 'Too much{Enter}');
    await waitFor(() =>
      expect(screen.getAllByRole('alert').map((a) => a.textContent).join(' ')).toContain('organization:delete'),
    );
    expect(org.apiKeys).toEqual([]);
  });

  it('tells a member without api_keys:manage that it is not for them', async () => {
    const { fake, org } = acme();
    org.members.set(fake.users.get('bob@example.com')!.id, 'member');
    await renderWithAuth(<OrganizationApiKeys />, { fake, signIn: 'bob@example.com', organizationId: org.id });
    expect(await screen.findByText('You do not have access to this.')).toBeInTheDocument();
    expect(fake.count('GET', /\/api-keys$/)).toBe(0);
  });
});
