// The instance as an OpenID Provider, seen from a confidential application (the BFF): discovery
// (fetched once), the authorization URL with PKCE S256, state and nonce, the code exchange and
// refresh with HTTP Basic client authentication, ID token validation, revocation (RFC 7009) and
// the RP-initiated logout URL.
import { createHash, randomBytes } from 'node:crypto';
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, customFetch, jwtVerify } from 'jose';

/** The parts of the discovery document the BFF uses. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  revocation_endpoint: string;
  end_session_endpoint?: string;
  scopes_supported?: string[];
}

/** What `/oauth2/token` answers. */
export interface ProviderTokens {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
  scope: string;
}

/** The provider refused (RFC 6749 `error`), or could not be reached (`status` 0). */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ProviderOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
}

/** A random value for `state`, `nonce` and the PKCE verifier (32 bytes, base64url: 43 characters). */
export const randomValue = () => randomBytes(32).toString('base64url');

export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export interface Provider {
  metadata(): Promise<ProviderMetadata>;
  jwks(): Promise<JWTVerifyGetKey>;
  /** How many times the JWKS was fetched. */
  readonly jwksFetches: number;
  token(form: Record<string, string>): Promise<ProviderTokens>;
  revoke(token: string, hint: 'refresh_token' | 'access_token'): Promise<void>;
  /** Verifies an ID token's signature, `iss`, `aud` (the client id), `exp`, and `nonce` when given. */
  verifyIdToken(idToken: string, nonce: string | undefined): Promise<JWTPayload>;
}

export function createProvider(options: ProviderOptions): Provider {
  const issuer = options.issuer.replace(/\/+$/, '');
  let discovered: Promise<ProviderMetadata> | null = null;
  let keys: JWTVerifyGetKey | null = null;
  let fetches = 0;
  // RFC 6749 §2.3.1: each part form-urlencoded before Basic encoding.
  const basic = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;

  function metadata(): Promise<ProviderMetadata> {
    if (!discovered) {
      discovered = (async () => {
        const url = `${issuer}/.well-known/openid-configuration`;
        let response: Response;
        try {
          response = await options.fetch(url, { headers: { accept: 'application/json' } });
        } catch (cause) {
          throw new ProviderError(0, 'unavailable', `GET ${url} got no answer: ${(cause as Error).message}`);
        }
        if (!response.ok) throw new ProviderError(response.status, 'discovery_failed', `GET ${url}: HTTP ${response.status}`);
        const found = (await response.json()) as ProviderMetadata;
        // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched for.
        if (found.issuer !== issuer) {
          throw new ProviderError(0, 'discovery_failed', `the discovery document names issuer ${found.issuer}, not ${issuer}`);
        }
        return found;
      })();
      // A failed discovery is tried again on the next request.
      discovered.catch(() => {
        discovered = null;
      });
    }
    return discovered;
  }

  async function jwks(): Promise<JWTVerifyGetKey> {
    if (!keys) {
      const { jwks_uri } = await metadata();
      keys ??= createRemoteJWKSet(new URL(jwks_uri), {
        [customFetch]: (url: string, init: RequestInit) => {
          fetches += 1;
          return options.fetch(url, init);
        },
      });
    }
    return keys;
  }

  async function post(url: string, form: Record<string, string>): Promise<Response> {
    try {
      return await options.fetch(url, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
      });
    } catch (cause) {
      throw new ProviderError(0, 'unavailable', `POST ${url} got no answer: ${(cause as Error).message}`);
    }
  }

  async function refusal(response: Response): Promise<ProviderError> {
    const body = (await response.json().catch(() => ({}))) as { error?: string; error_description?: string };
    return new ProviderError(response.status, body.error ?? 'unexpected_response', body.error_description ?? `HTTP ${response.status}`);
  }

  return {
    metadata,
    jwks,
    get jwksFetches() {
      return fetches;
    },
    async token(form) {
      const response = await post((await metadata()).token_endpoint, form);
      if (!response.ok) throw await refusal(response);
      return (await response.json()) as ProviderTokens;
    },
    async revoke(token, hint) {
      const response = await post((await metadata()).revocation_endpoint, { token, token_type_hint: hint });
      if (!response.ok) throw await refusal(response);
    },
    async verifyIdToken(idToken, nonce) {
      const { payload } = await jwtVerify(idToken, await jwks(), {
        algorithms: ['RS256'],
        issuer,
        audience: options.clientId,
        clockTolerance: 5,
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      if (nonce !== undefined && payload.nonce !== nonce) {
        throw new ProviderError(0, 'nonce_mismatch', 'the ID token is not for this sign-in (nonce)');
      }
      return payload;
    },
  };
}
