// Sign-in with the redirect flow for single-page apps: the app is a public (`spa`) application
// of the instance's OpenID Provider. Authorization code + PKCE S256, with `state` and `nonce`
// kept in sessionStorage for one callback; the tokens then go into the client's session, whose
// refresh and sign-out use the provider's token and revocation endpoints.
import { AuthStackError } from './errors';
import type { Transport } from './http';
import { memoryStorage, type StorageLike } from './environment';
import type { OidcBinding, Session } from './session';

export interface SignInWithRedirectParams {
  /** The instance's issuer (`iss`), e.g. `https://api.authstack.io/i/ins_…`: discovery is under it. */
  issuer: string;
  /** The `spa` application's client id. */
  clientId: string;
  /** Registered with the application exactly; the page that calls `handleRedirectCallback()`. */
  redirectUri: string;
  /** Default `openid profile email` (the instance's scopes; refresh tokens need no `offline_access`). */
  scope?: string;
  /** An organization id or slug to sign in to. */
  organization?: string;
  prompt?: 'none' | 'login' | 'consent' | 'select_account' | 'create';
  loginHint?: string;
  /** Handed back by `handleRedirectCallback()`: where the app was (same-origin path only). */
  returnTo?: string;
}

export interface RedirectCallbackResult {
  /** The `returnTo` given to `signInWithRedirect`, if any. */
  returnTo: string | null;
  /** The ID token's claims (`sub`, `email`, `name`, … by scope). */
  claims: IdTokenClaims;
}

export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  nonce?: string;
  sid?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  org_id?: string;
  org_slug?: string;
  [claim: string]: unknown;
}

/** What sessionStorage holds between the redirect and the callback. */
interface Pending {
  issuer: string;
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string | null;
}

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint: string;
  end_session_endpoint?: string;
}

interface ProviderTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
}

export interface RedirectDeps {
  transport: Transport;
  session: Session;
  storageKey: string;
  sessionStorage: () => StorageLike | null | undefined;
  navigate: (url: string) => void;
}

const fail = (code: string, message: string) => new AuthStackError(code, 0, message);

export function redirectAuth(deps: RedirectDeps) {
  const discovered = new Map<string, Promise<Metadata>>();
  const pendingKey = `authstack:${deps.storageKey}:redirect`;
  let fallback: StorageLike | null = null;
  const store = () => deps.sessionStorage() ?? (fallback ??= memoryStorage());

  function metadata(issuer: string): Promise<Metadata> {
    const trimmed = issuer.replace(/\/+$/, '');
    let found = discovered.get(trimmed);
    if (!found) {
      found = (
        deps.transport.request({ method: 'get', url: `${trimmed}/.well-known/openid-configuration`, keyless: true }) as Promise<Metadata>
      ).then((m) => {
        if (m.issuer !== trimmed) throw fail('issuer_mismatch', `the discovery document names issuer ${m.issuer}`);
        return m;
      });
      discovered.set(trimmed, found);
      found.catch(() => discovered.delete(trimmed));
    }
    return found;
  }

  async function signInWithRedirect(params: SignInWithRedirectParams): Promise<void> {
    const meta = await metadata(params.issuer);
    const pending: Pending = {
      issuer: meta.issuer,
      clientId: params.clientId,
      redirectUri: params.redirectUri,
      state: randomValue(),
      nonce: randomValue(),
      verifier: randomValue(),
      returnTo: sameOriginPath(params.returnTo),
    };
    const url = new URL(meta.authorization_endpoint);
    const query: Record<string, string | undefined> = {
      response_type: 'code',
      client_id: params.clientId,
      redirect_uri: params.redirectUri,
      scope: params.scope ?? 'openid profile email',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: 'S256',
      organization: params.organization,
      prompt: params.prompt,
      login_hint: params.loginHint,
    };
    for (const [name, value] of Object.entries(query)) if (value) url.searchParams.set(name, value);
    store().setItem(pendingKey, JSON.stringify(pending));
    deps.navigate(url.toString());
  }

  async function handleRedirectCallback(url?: string): Promise<RedirectCallbackResult> {
    const answer = new URL(url ?? String((globalThis as { location?: Location }).location?.href ?? ''));
    const raw = store().getItem(pendingKey);
    store().removeItem(pendingKey); // one callback per sign-in, whatever it says
    const pending = raw ? (JSON.parse(raw) as Pending) : null;
    if (!pending) throw fail('login_expired', 'No sign-in was started in this tab (or its answer was used already).');
    const q = answer.searchParams;
    if (q.get('state') !== pending.state) {
      throw fail('state_mismatch', 'The answer does not belong to the sign-in started in this tab.');
    }
    // RFC 9207: the answer names its issuer; another one is a mix-up attack.
    if (q.get('iss') !== pending.issuer) {
      throw fail('issuer_mismatch', 'The answer comes from another issuer than the one the sign-in went to.');
    }
    const error = q.get('error');
    if (error) throw fail(error, q.get('error_description') ?? error);
    const code = q.get('code');
    if (!code) throw fail('invalid_request', 'The answer carries no authorization code.');
    const meta = await metadata(pending.issuer);
    await deps.session.settle();
    const tokens = (await deps.transport.request({
      method: 'post',
      url: meta.token_endpoint,
      keyless: true,
      form: {
        grant_type: 'authorization_code',
        code,
        redirect_uri: pending.redirectUri,
        client_id: pending.clientId,
        code_verifier: pending.verifier,
      },
    })) as ProviderTokens;
    const claims = checkIdToken(tokens.id_token, pending);
    const binding: OidcBinding = {
      clientId: pending.clientId,
      tokenEndpoint: meta.token_endpoint,
      revocationEndpoint: meta.revocation_endpoint,
      idToken: tokens.id_token,
      ...(meta.end_session_endpoint ? { endSessionEndpoint: meta.end_session_endpoint } : {}),
    };
    deps.session.adoptRedirect(tokens, binding);
    return { returnTo: pending.returnTo, claims };
  }

  return { signInWithRedirect, handleRedirectCallback };
}

/**
 * The ID token came straight from the token endpoint over TLS, which OpenID Connect Core
 * §3.1.3.7 accepts in place of checking its signature; its claims are checked here.
 */
function checkIdToken(idToken: string, pending: Pending): IdTokenClaims {
  let claims: IdTokenClaims;
  try {
    const part = idToken.split('.')[1] ?? '';
    const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes)) as IdTokenClaims;
  } catch {
    throw fail('invalid_id_token', 'The ID token cannot be read.');
  }
  if (claims.iss !== pending.issuer || claims.aud !== pending.clientId) {
    throw fail('invalid_id_token', 'The ID token is for another issuer or application.');
  }
  if (claims.nonce !== pending.nonce) throw fail('nonce_mismatch', 'The ID token is not for this sign-in (nonce).');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now() - 60_000) {
    throw fail('invalid_id_token', 'The ID token has expired.');
  }
  return claims;
}

function randomValue(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return base64url(bytes);
}

async function challengeOf(verifier: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A path on this origin; absolute and protocol-relative URLs are dropped (no open redirect). */
function sameOriginPath(target: string | undefined): string | null {
  return target && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') ? target : null;
}
