// useAuth's redirect flow against a real instance (the repository's authstack-instance binary)
// as a public `spa` application, in jsdom: a button starts the sign-in, the browser's part is
// plain fetch, and a callback component signs the session in.
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createClient } from '@authstack/client';
import { useEffect, useState } from 'react';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInstance, browserSignIn, startInstance } from '../../../../test-support/authstack-instance';
import { AuthStackProvider } from '../context/provider';
import { useAuth } from './useAuth';

function memoryStorage() {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
}

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
let instance: RunningInstance;
let clientId: string;

beforeAll(async () => {
  instance = await startInstance();
  clientId = (await instance.createApplication({ name: 'React SPA', kind: 'spa', redirect_uris: [REDIRECT_URI] })).id;
}, 60_000);
afterAll(() => instance?.stop());

function SignInButton() {
  const { signInWithRedirect, isSignedIn, userId } = useAuth();
  if (isSignedIn) return <p data-testid="who">{userId}</p>;
  return (
    <button type="button" onClick={() => void signInWithRedirect({ issuer: instance.issuer, clientId, redirectUri: REDIRECT_URI })}>
      Sign in
    </button>
  );
}

function Callback({ url }: { url: string }) {
  const { handleRedirectCallback } = useAuth();
  const [outcome, setOutcome] = useState('');
  useEffect(() => {
    handleRedirectCallback(url).then(
      (result) => setOutcome(`ok:${result.claims.sub}`),
      (error: { code?: string }) => setOutcome(`error:${error.code}`),
    );
  }, [url, handleRedirectCallback]);
  return <p data-testid="outcome">{outcome}</p>;
}

describe('useAuth redirect flow', () => {
  it('signs in through the hosted page and shows the user', async () => {
    const user = await instance.verifiedUser();
    const navigated: string[] = [];
    const client = createClient({
      apiKey: 'ask_test_unused_by_a_bare_instance',
      baseUrl: instance.url,
      storage: 'memory',
      crossTab: false,
      autoRefresh: false,
      environment: { sessionStorage: memoryStorage(), navigate: (url) => void navigated.push(url) },
    });
    const view = render(
      <AuthStackProvider client={client}>
        <SignInButton />
      </AuthStackProvider>,
    );
    await userEvent.click(await screen.findByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(navigated).toHaveLength(1));
    const callback = await browserSignIn(navigated[0]!, user.email, user.password);
    view.rerender(
      <AuthStackProvider client={client}>
        <Callback url={callback.toString()} />
        <SignInButton />
      </AuthStackProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('outcome')).toHaveTextContent(`ok:${user.id}`));
    expect(screen.getByTestId('who')).toHaveTextContent(user.id);
  });
});
