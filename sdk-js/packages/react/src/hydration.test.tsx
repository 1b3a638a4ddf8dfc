import { act, screen, waitFor } from '@testing-library/react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { acme, clientFor, PASSWORD } from '../test/render';
import { AuthStackProvider, LoginForm, OrganizationSwitcher, PermissionGate, useAuth } from './index';

function Page() {
  const { isLoaded, isSignedIn } = useAuth();
  return (
    <>
      <p data-testid="state">{!isLoaded ? 'loading' : isSignedIn ? 'in' : 'out'}</p>
      <LoginForm />
      <OrganizationSwitcher />
      <PermissionGate permission="members:read" fallback={<p>gated</p>}>
        <p>members</p>
      </PermissionGate>
    </>
  );
}

describe('hydration', () => {
  it('hydrates server HTML without a mismatch, then restores the session', async () => {
    const { fake, org } = acme();
    // A session stored by an earlier visit: the server cannot know it, the browser restores it
    // from localStorage after hydration.
    const earlier = clientFor(fake, { storage: 'localStorage' });
    await earlier.auth.signIn({ email: 'ada@example.com', password: PASSWORD, organizationId: org.id });
    earlier.destroy();
    const client = clientFor(fake, { storage: 'localStorage' });
    const tree = (
      <AuthStackProvider client={client}>
        <Page />
      </AuthStackProvider>
    );
    const container = document.createElement('div');
    container.innerHTML = renderToString(tree);
    document.body.appendChild(container);
    expect(container.textContent).toContain('loading');
    const errors = vi.spyOn(console, 'error');
    const recoverable: unknown[] = [];
    await act(async () => {
      hydrateRoot(container, tree, { onRecoverableError: (error) => recoverable.push(error) });
    });
    await waitFor(() => expect(screen.getByTestId('state')).toHaveTextContent('in'));
    expect(await screen.findByText('members')).toBeInTheDocument();
    expect(recoverable).toEqual([]);
    expect(errors).not.toHaveBeenCalled();
    expect(fake.count('POST', '/v1/auth/refresh')).toBe(1);
    errors.mockRestore();
    container.remove();
    localStorage.clear();
  });
});
