// OpenID Connect Back-Channel Logout 1.0, the relying party's side: the instance POSTs a logout
// token to the application's `backchannel_logout_uri` when a sign-in ends (the user signed out
// in another application, an administrator revoked the sessions, the password was reset). The
// BFF verifies it and remembers the sign-in (`sid`) as ended, so every cookie of that sign-in
// stops working at its next request, not only at its next refresh.
import { type JWTVerifyGetKey, jwtVerify } from 'jose';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Where the BFF remembers ended sign-ins. The default keeps them in this process's memory; a
 * BFF that runs as several processes passes a shared one (Redis, a database table).
 */
export interface LogoutStore {
  /** Remembers that `key` (`sid:<sid>` or `sub:<sub>`) ended; it may be forgotten after `until` (ms since the epoch). */
  add(key: string, until: number): void | Promise<void>;
  has(key: string): boolean | Promise<boolean>;
}

/** The in-memory store: entries are dropped once no session they could end is still alive. */
export function memoryLogoutStore(now: () => number = Date.now): LogoutStore {
  const ended = new Map<string, number>();
  return {
    add(key, until) {
      const time = now();
      for (const [k, at] of ended) if (at <= time) ended.delete(k);
      ended.set(key, Math.max(until, ended.get(key) ?? 0));
    },
    has(key) {
      const until = ended.get(key);
      return until !== undefined && until > now();
    },
  };
}

/** What a verified logout token says ended. */
export interface LogoutNotice {
  sid: string | undefined;
  sub: string | undefined;
}

export class LogoutTokenError extends Error {
  override readonly name = 'LogoutTokenError';
}

/**
 * Validates a logout token as §2.6 asks: signature (the instance's JWKS, RS256), `iss`, `aud` =
 * the client id, `typ` `logout+jwt`, `iat` within five minutes, the back-channel logout event,
 * `sid` or `sub`, and no `nonce` (so that an ID token cannot pass for one).
 */
export async function verifyLogoutToken(
  token: string,
  options: { issuer: string; clientId: string; keys: JWTVerifyGetKey },
): Promise<LogoutNotice> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.clientId,
      algorithms: ['RS256'],
      typ: 'logout+jwt',
      maxTokenAge: '5m',
      requiredClaims: ['iat', 'jti'],
    }));
  } catch (error) {
    throw new LogoutTokenError(`the logout token is not valid: ${(error as Error).message}`, { cause: error });
  }
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events?.[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null) throw new LogoutTokenError('the logout token carries no back-channel logout event');
  if ('nonce' in payload) throw new LogoutTokenError('a logout token has no nonce');
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  if (!sid && !sub) throw new LogoutTokenError('the logout token names neither sid nor sub');
  return { sid, sub };
}
