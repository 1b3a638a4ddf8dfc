import { createClient, type AuthStackClient } from '@authstack/client';
import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { AuthStackProvider, type AuthStackProviderProps } from '../src/context/provider';
import { FakeInstance, type FakeOptions, PASSWORD } from '../../../test-support/fake-instance';

export { PASSWORD };

export interface Setup {
  fake: FakeInstance;
  client: AuthStackClient;
  /** Errors the provider's onError received. */
  errors: unknown[];
  view: RenderResult;
}

/** A client over the fake instance, in memory, without cross-tab sync. */
export function clientFor(
  fake: FakeInstance,
  options: { autoRefresh?: boolean; storage?: 'memory' | 'localStorage' } = {},
): AuthStackClient {
  return createClient({
    apiKey: 'ask_test_demo',
    baseUrl: 'http://gateway.test',
    storage: 'memory',
    crossTab: false,
    fetch: fake.fetch,
    ...options,
  });
}

/**
 * Renders `ui` under an `<AuthStackProvider>` whose client talks to `fake`; `signIn` signs a
 * user in first (and switches to `organizationId`).
 */
export async function renderWithAuth(
  ui: ReactElement,
  options: {
    fake?: FakeInstance;
    fakeOptions?: FakeOptions;
    signIn?: string;
    organizationId?: string;
    provider?: Omit<AuthStackProviderProps, 'client' | 'children'>;
  } = {},
): Promise<Setup> {
  const fake = options.fake ?? new FakeInstance(options.fakeOptions);
  const client = clientFor(fake);
  if (options.signIn) {
    await client.auth.signIn({ email: options.signIn, password: PASSWORD });
    if (options.organizationId) await client.organizations.switch(options.organizationId);
  } else {
    await client.load();
  }
  const errors: unknown[] = [];
  const view = render(
    <AuthStackProvider client={client} onError={(e) => errors.push(e)} {...options.provider}>
      {ui}
    </AuthStackProvider>,
  );
  return { fake, client, errors, view };
}

/** Two users and an organization: ada (owner) and bob (viewer) of Acme. */
export function acme(fakeOptions?: FakeOptions) {
  const fake = new FakeInstance(fakeOptions);
  fake.addUser('ada@example.com', PASSWORD, 'Ada');
  fake.addUser('bob@example.com', PASSWORD, 'Bob');
  const org = fake.addOrg('Acme', { 'ada@example.com': 'owner', 'bob@example.com': 'viewer' });
  return { fake, org };
}
