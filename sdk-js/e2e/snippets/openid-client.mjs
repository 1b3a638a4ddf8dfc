// The README's Node.js integration, as it is tested (snippets.test.mjs): npm openid-client signs a
// user in to an AuthStack instance with the authorization-code flow and PKCE, knowing only the
// issuer, a client id and a secret. `openBrowser(url)` sends the user to `url` and resolves with
// the URL the instance redirected back to (your callback route's request URL).
// README:begin
import * as client from 'openid-client';

export async function signIn({ issuer, clientId, clientSecret, redirectUri, openBrowser, options }) {
  const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, options);
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  // Keep codeVerifier, state and nonce in the user's session until the callback arrives.
  const callback = await openBrowser(url);
  // Checks state, iss (RFC 9207) and the ID token (signature, aud, nonce, expiry).
  const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const user = await client.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
  return { user, tokens };
}
// README:end
