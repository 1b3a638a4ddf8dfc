// Local verification of AuthStack access tokens: RS256 signatures against the instance's JWKS
// (fetched once, cached, fetched again when a token names an unknown key), issuer, audience and
// expiry. No call to the instance per request.
import type { Provider } from './provider';
import { type JWTPayload, type JWTVerifyGetKey, createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';

export interface VerifyOptions {
  /** The instance's issuer (`iss`), e.g. `https://auth.example.com` or `http://127.0.0.1:7300`. */
  issuer: string;
  /** The instance's audience (`aud`): its id unless configured otherwise. */
  audience: string;
  /** The JWKS URL, e.g. `http://127.0.0.1:7401/.well-known/jwks.json` (the gateway) or the instance's. */
  jwksUrl: string;
  /** Sent as `X-AuthStack-Key` when fetching the JWKS through the gateway. */
  apiKey?: string;
  /**
   * After a JWKS fetch, a token naming an unknown `kid` fetches it again only after this long
   * (default 5 s). Tokens of a key rotated in during that window are refused until it passes;
   * forged `kid`s cannot make the verifier fetch more often than this.
   */
  cooldownMs?: number;
  /** The JWKS is fetched again after this long even without an unknown `kid` (default 10 min). */
  cacheMaxAgeMs?: number;
  /** Seconds of clock skew tolerated on `exp` (default 5). */
  clockToleranceSec?: number;
  /** For tests and instrumentation. */
  fetch?: typeof fetch;
  /** The current time for `exp` checks (tests); default the system clock. */
  now?: () => Date;
}

/** A verified access token, in the product's words. */
export interface AuthContext {
  /** Who the token speaks for: a user, or an organization's machine key (`orgkey_…`). */
  principalType: 'user' | 'org_api_key';
  /** The user's id, or the machine key's principal id for `org_api_key`. */
  userId: string;
  /** The sign-in the token belongs to; null for an organization's machine key. */
  sessionId: string | null;
  /** Null in tokens issued to an application (the redirect flow): they carry no email claims. */
  email: string | null;
  emailVerified: boolean | null;
  /** The application a token was issued to (`client_id`); null for the instance's own sessions. */
  clientId: string | null;
  /** Authentication methods (`amr`). */
  authMethods: string[];
  organizationId: string | null;
  organizationSlug: string | null;
  role: string | null;
  permissions: string[];
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
  /** Every claim as signed. */
  claims: AccessTokenClaims;
  /** The token itself, to call the instance on the user's behalf. */
  token: string;
}

export interface AccessTokenClaims extends JWTPayload {
  sub: string;
  /** Absent only in tokens exchanged for an organization's machine key. */
  sid?: string;
  /** `org_api_key` in tokens exchanged for an organization's machine key; absent for users. */
  principal_type?: string;
  exp: number;
  iat: number;
  amr: string[];
  email?: string;
  email_verified?: boolean;
  client_id?: string;
  scope?: string;
  org_id?: string;
  org_slug?: string;
  org_role?: string;
  permissions?: string[];
}

/** Why a token was refused. `jwks_unavailable` is ours to fix, not the caller's. */
export class TokenVerificationError extends Error {
  override readonly name = 'TokenVerificationError';
  constructor(
    readonly code: 'invalid_token' | 'token_expired' | 'jwks_unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface Verifier {
  verify(token: string): Promise<AuthContext>;
  /** How many times the JWKS was fetched (for metrics and tests). */
  readonly jwksFetches: number;
}

/** A verifier with its own JWKS cache. Create one per instance and keep it. */
export function createVerifier(options: VerifyOptions): Verifier {
  let fetches = 0;
  const doFetch = options.fetch ?? globalThis.fetch;
  const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl), {
    cooldownDuration: options.cooldownMs ?? 5_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    ...(options.apiKey ? { headers: { 'x-authstack-key': options.apiKey } } : {}),
    [customFetch]: (url: string, init: RequestInit) => {
      fetches += 1;
      return doFetch(url, init);
    },
  });
  return {
    get jwksFetches() {
      return fetches;
    },
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          algorithms: ['RS256'],
          issuer: options.issuer,
          audience: options.audience,
          clockTolerance: options.clockToleranceSec ?? 5,
          requiredClaims: ['exp', 'iat', 'sub'],
          ...(options.now ? { currentDate: options.now() } : {}),
        }));
      } catch (error) {
        throw refusal(error);
      }
      const machine = payload.principal_type === 'org_api_key';
      if (!machine && typeof payload.sid !== 'string') {
        throw new TokenVerificationError('invalid_token', 'the access token is invalid: missing required "sid" claim');
      }
      if (machine && (typeof payload.org_id !== 'string' || !Array.isArray(payload.permissions))) {
        throw new TokenVerificationError('invalid_token', 'the access token is invalid: a machine token names its organization and permissions');
      }
      return contextOf(payload as AccessTokenClaims, token);
    },
  };
}

const verifiers = new Map<string, Verifier>();

/**
 * Verifies an access token. Verifiers (and their JWKS caches) are kept per set of options, so
 * calling this on every request fetches the JWKS once.
 */
export function verifyAccessToken(token: string, options: VerifyOptions): Promise<AuthContext> {
  const key = JSON.stringify([options.jwksUrl, options.issuer, options.audience, options.apiKey ?? null]);
  let verifier = verifiers.get(key);
  if (!verifier) {
    verifier = createVerifier(options);
    verifiers.set(key, verifier);
  }
  return verifier.verify(token);
}

function refusal(error: unknown): TokenVerificationError {
  if (error instanceof errors.JWTExpired) {
    return new TokenVerificationError('token_expired', 'the access token has expired', { cause: error });
  }
  if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout) && !isFetchFailure(error)) {
    return new TokenVerificationError('invalid_token', `the access token is invalid: ${error.message}`, { cause: error });
  }
  return new TokenVerificationError('jwks_unavailable', `the JWKS could not be fetched: ${(error as Error).message}`, {
    cause: error,
  });
}

function isFetchFailure(error: errors.JOSEError): boolean {
  // jose answers a non-200 JWKS response with a plain JOSEError; a network failure is not a JOSEError.
  return error.code === 'ERR_JOSE_GENERIC' && /Expected 200 OK/.test(error.message);
}

function contextOf(claims: AccessTokenClaims, token: string): AuthContext {
  return {
    principalType: claims.principal_type === 'org_api_key' ? 'org_api_key' : 'user',
    userId: claims.sub,
    sessionId: claims.sid ?? null,
    email: claims.email ?? null,
    emailVerified: claims.email_verified ?? null,
    clientId: claims.client_id ?? null,
    authMethods: claims.amr ?? [],
    organizationId: claims.org_id ?? null,
    organizationSlug: claims.org_slug ?? null,
    role: claims.org_role ?? null,
    permissions: claims.permissions ?? [],
    expiresAt: claims.exp,
    claims,
    token,
  };
}

/** The verifier of redirect mode: `aud` is the client id, the JWKS URL from discovery. */
export function discoveredVerifier(provider: Provider, options: { clientId: string; fetch?: typeof fetch }): Verifier {
  let inner: Promise<Verifier> | null = null;
  const get = () => {
    inner ??= provider.metadata().then((metadata) =>
      createVerifier({
        issuer: metadata.issuer,
        audience: options.clientId,
        jwksUrl: metadata.jwks_uri,
        ...(options.fetch ? { fetch: options.fetch } : {}),
      }),
    );
    inner.catch(() => {
      inner = null;
    });
    return inner;
  };
  let resolved: Verifier | null = null;
  return {
    get jwksFetches() {
      return resolved?.jwksFetches ?? 0;
    },
    async verify(token) {
      try {
        resolved = await get();
      } catch (error) {
        throw new TokenVerificationError('jwks_unavailable', `discovery failed: ${(error as Error).message}`, { cause: error });
      }
      return resolved.verify(token);
    },
  };
}
