import { AuthStackError } from './errors';

/** The claims of an AuthStack access token (see the instance's `AccessClaims`). */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  /** The user id. */
  sub: string;
  /** The session id. */
  sid: string;
  iat: number;
  exp: number;
  jti: string;
  /** Authentication methods (RFC 8176), e.g. `['pwd']`. */
  amr: string[];
  email: string;
  email_verified: boolean;
  org_id?: string;
  org_slug?: string;
  org_role?: string;
  permissions?: string[];
}

/**
 * Reads an access token's claims **without verifying it**: fine for a UI deciding what to show
 * (the API checks every token); a server must verify (see `@authstack/node`).
 */
export function decodeAccessToken(token: string): AccessTokenClaims {
  const payload = token.split('.')[1];
  try {
    if (!payload) throw new Error('not a JWT');
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as AccessTokenClaims;
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') {
      throw new Error('sub or exp missing');
    }
    return claims;
  } catch (cause) {
    throw new AuthStackError(
      'unexpected_response',
      0,
      `the access token could not be read: ${(cause as Error).message}`,
    );
  }
}
