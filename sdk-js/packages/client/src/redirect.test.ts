// The redirect flow's checks that a real instance never fails (a wrong nonce or audience in the
// ID token), with an injected fetch standing in for the provider.
import { describe, expect, it } from 'vitest';
import { createClient } from './client';
import { memoryStorage } from './environment';
import { AuthStackError } from './errors';

const ISSUER = 'https://auth.example';
const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(claims)}.sig`;

function provider(idClaims: (nonce: string) => Record<string, unknown>) {
  let nonce = '';
  const navigated: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  const client = createClient({
    apiKey: 'ask_test_x',
    baseUrl: 'https://api.example',
    storage: 'memory',
    autoRefresh: false,
    environment: { sessionStorage: memoryStorage(), navigate: (url) => void navigated.push(url) },
    fetch: async (input) => {
      const url = String(input);
      if (url.endsWith('/.well-known/openid-configuration')) {
        return Response.json({
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}/oauth2/authorize`,
          token_endpoint: `${ISSUER}/oauth2/token`,
          revocation_endpoint: `${ISSUER}/oauth2/revoke`,
        });
      }
      return Response.json({
        access_token: jwt({ sub: 'usr_1', sid: 'ses_1', iat: now, exp: now + 300, aud: 'app_1' }),
        refresh_token: 'rt_1',
        id_token: jwt(idClaims(nonce)),
      });
    },
  });
  const start = async () => {
    await client.auth.signInWithRedirect({ issuer: ISSUER, clientId: 'app_1', redirectUri: 'https://spa.example/cb' });
    const authorize = new URL(navigated[0]!);
    nonce = authorize.searchParams.get('nonce')!;
    return `https://spa.example/cb?code=ac_1&state=${authorize.searchParams.get('state')}&iss=${encodeURIComponent(ISSUER)}`;
  };
  return { client, start };
}

const codeOf = (promise: Promise<unknown>) => promise.then(() => null, (e: unknown) => (e as AuthStackError).code);

describe('handleRedirectCallback', () => {
  it("checks the ID token's nonce, issuer and audience", async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = (nonce: string) => ({ iss: ISSUER, aud: 'app_1', sub: 'usr_1', nonce, iat: now, exp: now + 300 });
    const ok = provider(good);
    await expect(ok.client.auth.handleRedirectCallback(await ok.start())).resolves.toMatchObject({ claims: { sub: 'usr_1' } });
    expect(ok.client.getState().status).toBe('signed-in');

    const replayed = provider((nonce) => ({ ...good(nonce), nonce: 'another sign-in' }));
    expect(await codeOf(replayed.client.auth.handleRedirectCallback(await replayed.start()))).toBe('nonce_mismatch');
    expect(replayed.client.getState().status).not.toBe('signed-in');

    const otherApp = provider((nonce) => ({ ...good(nonce), aud: 'app_2' }));
    expect(await codeOf(otherApp.client.auth.handleRedirectCallback(await otherApp.start()))).toBe('invalid_id_token');
  });
});
