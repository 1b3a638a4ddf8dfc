import { screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { acme, renderWithAuth } from '../../../test/render';
import { PermissionGate } from './PermissionGate';
import { RoleGate } from './RoleGate';

function Gates() {
  return (
    <>
      <PermissionGate permission="roles:manage" fallback={<p>no roles:manage</p>}>
        <p>roles:manage</p>
      </PermissionGate>
      <PermissionGate anyOf={['audit:read', 'members:read']} fallback={<p>no any</p>}>
        <p>any</p>
      </PermissionGate>
      <PermissionGate allOf={['members:read', 'members:invite']} fallback={<p>no all</p>}>
        <p>all</p>
      </PermissionGate>
      <RoleGate anyOf={['owner', 'admin']} fallback={<p>not staff</p>}>
        <p>staff</p>
      </RoleGate>
    </>
  );
}

describe('<PermissionGate> and <RoleGate>', () => {
  it('show an owner everything', async () => {
    const { fake, org } = acme();
    await renderWithAuth(<Gates />, { fake, signIn: 'ada@example.com', organizationId: org.id });
    for (const text of ['roles:manage', 'any', 'all', 'staff']) expect(await screen.findByText(text)).toBeInTheDocument();
  });

  it('show a viewer only what the role grants, and the fallbacks', async () => {
    const { fake, org } = acme();
    await renderWithAuth(<Gates />, { fake, signIn: 'bob@example.com', organizationId: org.id });
    await waitFor(() => expect(screen.getByText('any')).toBeInTheDocument());
    for (const text of ['no roles:manage', 'no all', 'not staff']) expect(screen.getByText(text)).toBeInTheDocument();
    expect(screen.queryByText('roles:manage')).not.toBeInTheDocument();
  });

  it('show the fallback while signed out or outside any organization', async () => {
    const { fake } = acme();
    await renderWithAuth(<Gates />, { fake });
    expect(screen.getByText('no roles:manage')).toBeInTheDocument();
    expect(screen.getByText('no any')).toBeInTheDocument();
  });
});
