import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { acme, PASSWORD, renderWithAuth } from '../../../test/render';
import { json } from '../../../../../test-support/fake-instance';
import { useTenant } from '../../hooks/useTenant';
import { CreateOrganization } from './CreateOrganization';
import { OrganizationDetail } from './OrganizationDetail';
import { OrganizationList } from './OrganizationList';
import { OrganizationSettings } from './OrganizationSettings';
import { OrganizationSwitcher } from './OrganizationSwitcher';

function Current() {
  const { organization, role } = useTenant();
  return <p data-testid="current">{organization ? `${organization.name} as ${role}` : 'none'}</p>;
}

function twoOrgs() {
  const { fake, org } = acme();
  const beta = fake.addOrg('Beta', { 'ada@example.com': 'admin' });
  return { fake, acme: org, beta };
}

describe('<OrganizationSwitcher>', () => {
  it('switches the session’s organization with the keyboard', async () => {
    const user = userEvent.setup();
    const { fake, acme: a, beta } = twoOrgs();
    const onSwitch = vi.fn();
    const { client } = await renderWithAuth(
      <>
        <OrganizationSwitcher onSwitch={onSwitch} />
        <Current />
      </>,
      { fake, signIn: 'ada@example.com', organizationId: a.id },
    );
    const button = await screen.findByRole('button', { name: 'Current organization: Acme' });
    await waitFor(() => expect(screen.getByTestId('current')).toHaveTextContent('Acme as owner'));
    button.focus();
    await user.keyboard('{ArrowDown}');
    const list = screen.getByRole('listbox', { name: 'Current organization' });
    expect(within(list).getAllByRole('option').map((o) => o.textContent)).toEqual(['Acme · owner', 'Beta · admin']);
    await user.keyboard('{ArrowDown}{Enter}');
    await waitFor(() => expect(screen.getByTestId('current')).toHaveTextContent('Beta as admin'));
    expect(client.getState()).toMatchObject({ organizationId: beta.id, role: 'admin' });
    expect(onSwitch).toHaveBeenCalledWith(expect.objectContaining({ id: beta.id }));
    expect(screen.getByRole('button', { name: 'Current organization: Beta' })).toHaveFocus();
  });

  it('announces a failed switch', async () => {
    const user = userEvent.setup();
    const { fake, acme: a } = twoOrgs();
    await renderWithAuth(<OrganizationSwitcher />, { fake, signIn: 'ada@example.com', organizationId: a.id });
    fake.failNext('POST', /\/switch$/, () => json(404, { error: 'not_found', message: 'organization not found' }));
    await user.click(await screen.findByRole('button', { name: 'Current organization: Acme' }));
    await user.click(screen.getByRole('option', { name: /Beta/ }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('This no longer exists.'));
  });

  it('offers "Create organization" when asked to', async () => {
    const user = userEvent.setup();
    const onCreate = vi.fn();
    await renderWithAuth(<OrganizationSwitcher onCreateOrganization={onCreate} />, { fake: twoOrgs().fake, signIn: 'ada@example.com' });
    await user.click(await screen.findByRole('button', { name: 'Current organization: No organization' }));
    await user.click(screen.getByRole('option', { name: 'Create organization' }));
    expect(onCreate).toHaveBeenCalled();
  });
});

describe('<OrganizationList>', () => {
  it('lists memberships with roles, shows loading and an empty state', async () => {
    const user = userEvent.setup();
    const { fake, beta } = twoOrgs();
    fake.addUser('lonely@example.com', PASSWORD);
    const onSelect = vi.fn();
    const { view } = await renderWithAuth(<OrganizationList onSelect={onSelect} />, { fake, signIn: 'ada@example.com' });
    expect(screen.getByText('Loading…')).toBeInTheDocument();
    expect(await screen.findByText('Your role: admin')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Open Beta' }));
    await waitFor(() => expect(onSelect).toHaveBeenCalledWith(expect.objectContaining({ id: beta.id })));
    view.unmount();
    await renderWithAuth(<OrganizationList />, { fake, signIn: 'lonely@example.com' });
    expect(await screen.findByText('You do not belong to any organization yet.')).toBeInTheDocument();
  });

  it('shows a failed load in plain words', async () => {
    const { fake } = twoOrgs();
    fake.failNext('GET', /^\/v1\/organizations$/, () => json(503, { error: 'instance_unavailable', message: 'down' }));
    await renderWithAuth(<OrganizationList />, { fake, signIn: 'ada@example.com' });
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('The sign-in service is not available right now.'));
  });
});

describe('<CreateOrganization>', () => {
  it('creates, switches to it, and every organization view updates', async () => {
    const user = userEvent.setup();
    const { fake } = twoOrgs();
    const onCreated = vi.fn();
    const { client } = await renderWithAuth(
      <>
        <CreateOrganization onCreated={onCreated} />
        <OrganizationList />
      </>,
      { fake, signIn: 'ada@example.com' },
    );
    await screen.findByText('Beta');
    await user.type(screen.getByLabelText('Organization name'), 'Gamma Labs{Enter}');
    await waitFor(() => expect(onCreated).toHaveBeenCalledWith(expect.objectContaining({ name: 'Gamma Labs', role: 'owner' })));
    expect(await screen.findByText('Gamma Labs')).toBeInTheDocument();
    expect(client.getState()).toMatchObject({ organizationSlug: 'gamma-labs', role: 'owner' });
    expect(screen.getByLabelText('Organization name')).toHaveValue('');
  });

  it('explains a taken slug', async () => {
    const user = userEvent.setup();
    await renderWithAuth(<CreateOrganization />, { fake: twoOrgs().fake, signIn: 'ada@example.com' });
    await user.type(screen.getByLabelText('Organization name'), 'Acme{Enter}');
    await waitFor(() =>
      expect(screen.getByRole('alert')).toHaveTextContent('This conflicts with something that exists: the slug acme is taken.'),
    );
  });
});

describe('<OrganizationDetail>', () => {
  it('shows the current organization with the role’s permissions', async () => {
    const { fake, acme: a } = twoOrgs();
    await renderWithAuth(<OrganizationDetail />, { fake, signIn: 'bob@example.com', organizationId: a.id });
    expect(await screen.findByRole('heading', { name: 'Acme' })).toBeInTheDocument();
    expect(screen.getByText('Your role: viewer')).toBeInTheDocument();
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual(['organization:read', 'members:read']);
  });
});

describe('<OrganizationSettings>', () => {
  it('renames with organization:update, deletes only after typing the slug', async () => {
    const user = userEvent.setup();
    const { fake, acme: a } = twoOrgs();
    const onDeleted = vi.fn();
    await renderWithAuth(<OrganizationSettings onDeleted={onDeleted} />, { fake, signIn: 'ada@example.com', organizationId: a.id });
    const name = await screen.findByLabelText('Organization name');
    await user.clear(name);
    await user.type(name, 'Acme Inc{Enter}');
    await waitFor(() => expect(screen.getAllByRole('status')[0]).toHaveTextContent('Saved.'));
    expect(a.name).toBe('Acme Inc');
    const remove = screen.getByRole('button', { name: 'Delete organization' });
    expect(remove).toBeDisabled();
    await user.type(screen.getByLabelText('Slug to confirm'), 'acme');
    await user.click(remove);
    await waitFor(() => expect(onDeleted).toHaveBeenCalledWith(a.id));
    expect(fake.orgs.has(a.id)).toBe(false);
  });

  it('is read-only for a viewer', async () => {
    const { fake, acme: a } = twoOrgs();
    await renderWithAuth(<OrganizationSettings />, { fake, signIn: 'bob@example.com', organizationId: a.id });
    expect(await screen.findByLabelText('Organization name')).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Save' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Delete organization' })).not.toBeInTheDocument();
  });
});
