// The backend-for-frontend session: the browser never holds a token. The BFF signs the user in
// server-side (password login against the instance: instances have no OAuth authorization
// endpoint), keeps the access and refresh tokens sealed in an HttpOnly cookie, refreshes them
// when the access token is near expiry, and revokes the refresh token on logout.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { decodeJwt } from 'jose';
import { type CookieOptions, readCookie, setCookie } from './cookies';
import { seal, sealingKey, unseal } from './seal';
import { TokenVerificationError, type Verifier, createVerifier } from './verify';

export interface BffOptions {
  /** The gateway (or instance) URL, e.g. `http://127.0.0.1:7401`. */
  baseUrl: string;
  /** The publishable key, sent as `X-AuthStack-Key` (omit when talking to an instance directly). */
  apiKey?: string;
  /** 32 bytes (base64, base64url, hex or bytes) that seal the cookies. Keep it secret; rotate it to sign everyone out. */
  secret: string | Uint8Array;
  /** The instance's `iss` and `aud`, checked on every access token. */
  issuer: string;
  audience: string;
  /** Default `<baseUrl>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Default `authstack_session`; the login CSRF cookie is `<name>_csrf`. */
  cookieName?: string;
  /** Default true. False only for http://localhost development. */
  secure?: boolean;
  /** Default `Lax`. */
  sameSite?: 'Lax' | 'Strict';
  /** Default `/`. */
  cookiePath?: string;
  cookieDomain?: string;
  /** Lifetime of the session cookie (default 30 days, the instance's default session lifetime). */
  sessionMaxAgeSec?: number;
  /** Refresh when the access token expires within this many seconds (default 30). */
  refreshLeewaySec?: number;
  /** Where a form login goes on success when it names no `returnTo` (default `/`). */
  afterLogin?: string;
  /** Where a form login goes on failure, with `?error=<code>` (default `/login`). */
  loginPage?: string;
  /** Where a form logout goes (default `/`). */
  afterLogout?: string;
  fetch?: typeof fetch;
  /** Failures that are not the user's (instance unreachable, revocation failed); default `console.error`. */
  onError?: (error: unknown) => void;
}

/** The user as the BFF keeps it in the cookie. */
export interface BffUser {
  id: string;
  email: string;
  name: string | null;
}

interface SealedSession {
  at: string;
  rt: string;
  csrf: string;
  user: BffUser;
}

interface TokenResponse {
  access_token: string;
  refresh_token: string;
  user: { id: string; email: string; name?: string | null };
}

/** The instance refused (the body's `error` code), or could not be reached (`status` 0). */
export class InstanceError extends Error {
  override readonly name = 'InstanceError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the BFF session middleware: the CSRF token state-changing requests must carry. */
      csrfToken?: string;
      /** Set by the BFF session middleware: who is signed in. */
      user?: BffUser | null;
    }
  }
}

export interface Bff {
  /** Mount under a path: `GET /csrf`, `POST /login`, `POST /logout`, `GET /session`. */
  router(): RequestHandler;
  /** Restores the session from the cookie (refreshing it when due) into `req.auth` and `req.user`. */
  session(): RequestHandler;
  /** Rejects a state-changing request whose CSRF token (header `x-csrf-token` or field `_csrf`) does not match. */
  csrf(): RequestHandler;
  readonly verifier: Verifier;
}

const FRESH_RESULT_MS = 30_000;

export function createBff(options: BffOptions): Bff {
  const key = sealingKey(options.secret);
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const name = options.cookieName ?? 'authstack_session';
  const csrfName = `${name}_csrf`;
  const cookie: CookieOptions = {
    secure: options.secure ?? true,
    sameSite: options.sameSite ?? 'Lax',
    path: options.cookiePath ?? '/',
    domain: options.cookieDomain,
  };
  const maxAge = options.sessionMaxAgeSec ?? 30 * 24 * 3600;
  const leeway = options.refreshLeewaySec ?? 30;
  const doFetch = options.fetch ?? globalThis.fetch;
  const report = options.onError ?? ((error: unknown) => console.error('AuthStack BFF:', error));
  const verifier = createVerifier({
    issuer: options.issuer,
    audience: options.audience,
    jwksUrl: options.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  async function instance(path: string, init: { json?: unknown; form?: Record<string, string> }): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.apiKey) headers['x-authstack-key'] = options.apiKey;
    let body: string;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    let response: globalThis.Response;
    try {
      response = await doFetch(`${baseUrl}${path}`, { method: 'POST', headers, body });
    } catch (cause) {
      throw new InstanceError(0, 'unavailable', `POST ${path} got no answer: ${(cause as Error).message}`);
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as { error?: string; message?: string }) : undefined;
    if (!response.ok) {
      throw new InstanceError(response.status, parsed?.error ?? 'unexpected_response', parsed?.message ?? `HTTP ${response.status}`);
    }
    return parsed;
  }

  // One refresh per refresh token in this process: concurrent requests carrying the same cookie
  // share it, and for a while after, a request still carrying the old cookie gets the result
  // instead of spending the rotated token again (which would revoke the session).
  const refreshes = new Map<string, Promise<TokenResponse>>();
  function refreshOnce(refreshToken: string): Promise<TokenResponse> {
    let pending = refreshes.get(refreshToken);
    if (!pending) {
      pending = instance('/v1/auth/refresh', { json: { refresh_token: refreshToken } }) as Promise<TokenResponse>;
      refreshes.set(refreshToken, pending);
      const forget = () => setTimeout(() => refreshes.delete(refreshToken), FRESH_RESULT_MS).unref();
      pending.then(forget, () => refreshes.delete(refreshToken));
    }
    return pending;
  }

  function writeSession(res: Response, tokens: TokenResponse, csrf: string): SealedSession {
    const session: SealedSession = {
      at: tokens.access_token,
      rt: tokens.refresh_token,
      csrf,
      user: { id: tokens.user.id, email: tokens.user.email, name: tokens.user.name ?? null },
    };
    setCookie(res, name, seal(key, name, session), cookie, maxAge);
    return session;
  }

  function clearSession(res: Response): void {
    setCookie(res, name, '', cookie, 0);
  }

  function readSession(req: IncomingMessage): SealedSession | null {
    const raw = readCookie(req, name);
    return raw ? unseal<SealedSession>(key, name, raw) : null;
  }

  /** The CSRF token for this browser: the session's, else the login cookie's (created when missing). */
  function csrfToken(req: Request, res: Response): string {
    const session = readSession(req);
    if (session) return session.csrf;
    const raw = readCookie(req, csrfName);
    const existing = raw ? unseal<{ csrf: string }>(key, csrfName, raw) : null;
    if (existing) return existing.csrf;
    const csrf = randomBytes(32).toString('base64url');
    setCookie(res, csrfName, seal(key, csrfName, { csrf }), cookie, 3600);
    return csrf;
  }

  function csrfMatches(req: Request, body: Record<string, string>, expected: string | undefined): boolean {
    const given = (req.headers['x-csrf-token'] as string | undefined) ?? body._csrf;
    if (!given || !expected) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  const wantsJson = (req: Request) => !String(req.headers['content-type'] ?? '').includes('form-urlencoded');

  const session = (): RequestHandler => async (req, res, next) => {
    try {
      let current = readSession(req);
      req.auth = null;
      req.user = null;
      if (!current) {
        if (readCookie(req, name)) clearSession(res); // sealed by another key, or altered
        return next();
      }
      const { exp } = decodeJwt(current.at);
      if ((exp ?? 0) - Date.now() / 1000 < leeway) {
        try {
          current = writeSession(res, await refreshOnce(current.rt), current.csrf);
        } catch (error) {
          if (error instanceof InstanceError && error.status >= 400 && error.status < 500 && error.status !== 429) {
            clearSession(res); // the session was revoked or expired
            return next();
          }
          throw error;
        }
      }
      try {
        req.auth = await verifier.verify(current.at);
      } catch (error) {
        if (error instanceof TokenVerificationError && error.code !== 'jwks_unavailable') {
          clearSession(res);
          return next();
        }
        throw error;
      }
      req.user = current.user;
      req.csrfToken = current.csrf;
      next();
    } catch (error) {
      report(error);
      res.status(503).json({ error: 'unavailable', message: 'The session cannot be checked right now.' });
    }
  };

  const csrf = (): RequestHandler => (req, res, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method)) return next();
    // Express 4 does not catch a rejected promise of a middleware: errors go to next() here.
    formOf(req).then((body) => {
      if (!csrfMatches(req, body, readSession(req)?.csrf)) {
        return void res.status(403).json({ error: 'csrf_failed', message: 'The CSRF token is missing or wrong.' });
      }
      next();
    }, next);
  };

  async function login(req: Request, res: Response): Promise<void> {
    const body = await formOf(req);
    const expected = readSession(req)?.csrf ?? unsealedCsrf(req);
    if (!csrfMatches(req, body, expected)) {
      return void res.status(403).json({ error: 'csrf_failed', message: 'The CSRF token is missing or wrong.' });
    }
    try {
      const tokens = (await instance('/v1/auth/login', {
        json: {
          email: body.email ?? '',
          password: body.password ?? '',
          ...(body.organizationId ? { org_id: body.organizationId } : {}),
        },
      })) as TokenResponse;
      const created = writeSession(res, tokens, randomBytes(32).toString('base64url'));
      setCookie(res, csrfName, '', cookie, 0);
      if (wantsJson(req)) return void res.json({ user: created.user, csrfToken: created.csrf });
      res.redirect(303, safeReturn(body.returnTo) ?? options.afterLogin ?? '/');
    } catch (error) {
      if (!(error instanceof InstanceError)) throw error;
      if (error.status === 0 || error.status >= 500) report(error);
      const status = error.status === 0 ? 503 : error.status;
      if (wantsJson(req)) return void res.status(status).json({ error: error.code, message: error.message });
      res.redirect(303, `${options.loginPage ?? '/login'}?error=${encodeURIComponent(error.code)}`);
    }
  }

  function unsealedCsrf(req: Request): string | undefined {
    const raw = readCookie(req, csrfName);
    return raw ? unseal<{ csrf: string }>(key, csrfName, raw)?.csrf : undefined;
  }

  async function logout(req: Request, res: Response): Promise<void> {
    const body = await formOf(req);
    const current = readSession(req);
    if (current && !csrfMatches(req, body, current.csrf)) {
      return void res.status(403).json({ error: 'csrf_failed', message: 'The CSRF token is missing or wrong.' });
    }
    clearSession(res);
    if (current) {
      try {
        await instance('/v1/auth/revoke', { form: { token: current.rt, token_type_hint: 'refresh_token' } });
      } catch (error) {
        // The cookie is gone either way; the instance still holds the session until it expires.
        report(error);
        return void res.status(502).json({ error: 'revocation_failed', message: 'Signed out here; the session could not be revoked.' });
      }
    }
    if (wantsJson(req)) return void res.status(204).end();
    res.redirect(303, options.afterLogout ?? '/');
  }

  const router = (): RequestHandler => {
    const restore = session();
    return (req: Request, res: Response, next: NextFunction) => {
      const route = `${req.method} ${req.path}`;
      const run = (handler: () => Promise<void> | void) => Promise.resolve().then(handler).catch(next);
      switch (route) {
        case 'GET /csrf':
          return run(() => void res.json({ csrfToken: csrfToken(req, res) }));
        case 'POST /login':
          return run(() => login(req, res));
        case 'POST /logout':
          return run(() => logout(req, res));
        case 'GET /session':
          return run(async () => {
            await restore(req, res, () => {
              if (!req.user) return void res.status(401).json({ error: 'unauthorized', message: 'Not signed in.' });
              res.json({
                user: req.user,
                csrfToken: req.csrfToken,
                organizationId: req.auth?.organizationId ?? null,
                role: req.auth?.role ?? null,
                permissions: req.auth?.permissions ?? [],
              });
            });
          });
        default:
          return next();
      }
    };
  };

  return { router, session, csrf, verifier };
}

/** A same-site path to return to after login; absolute and protocol-relative URLs are refused. */
function safeReturn(target: string | undefined): string | undefined {
  return target && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') ? target : undefined;
}

/** The request's form or JSON fields, from a body parser that ran or from the stream. */
async function formOf(req: Request): Promise<Record<string, string>> {
  if (req.body && typeof req.body === 'object') return req.body as Record<string, string>;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 16_384) throw new Error('request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const parsed = String(req.headers['content-type'] ?? '').includes('application/json')
    ? (text ? (JSON.parse(text) as Record<string, string>) : {})
    : Object.fromEntries(new URLSearchParams(text));
  req.body = parsed;
  return parsed;
}
