// The backend-for-frontend session: the browser never holds a token. The BFF signs the user in
// with the redirect flow (authorization code + PKCE at the instance's OpenID Provider, as a
// confidential application) — or, in password mode, server-side against `/v1/auth/login` —,
// keeps the tokens sealed in an HttpOnly cookie, refreshes them when the access token is near
// expiry, and revokes the refresh token on logout.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { decodeJwt } from 'jose';
import { type CookieOptions, readCookie, setCookie } from './cookies';
import { seal, sealingKey, unseal } from './seal';
import { type Provider, type ProviderTokens, ProviderError, createProvider, pkceChallenge, randomValue } from './provider';
import { TokenVerificationError, type Verifier, createVerifier, discoveredVerifier } from './verify';
import { type LogoutStore, LogoutTokenError, memoryLogoutStore, verifyLogoutToken } from './backchannel';
import { formOf, safeReturn, sameText } from './request';

/** Options of both modes. */
interface BffCommonOptions {
  /** 32 bytes (base64, base64url, hex or bytes) that seal the cookies. Keep it secret; rotate it to sign everyone out. */
  secret: string | Uint8Array;
  /** The instance's issuer (`iss`): the discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** Default `authstack_session`; the login CSRF cookie is `<name>_csrf`, the redirect flow's `<name>_auth`. */
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
  /** Where a login goes on success when it names no `returnTo` (default `/`). */
  afterLogin?: string;
  fetch?: typeof fetch;
  /** Failures that are not the user's (instance unreachable, revocation failed); default `console.error`. */
  onError?: (error: unknown) => void;
}

/**
 * The redirect flow: the BFF is a confidential (`web`) application of the instance. Routes:
 * `GET /login`, `GET /callback`, `POST /logout`, `GET /session`, `GET /csrf`.
 */
export interface BffRedirectOptions extends BffCommonOptions {
  /** The application's client id; access tokens must carry it as `aud`. */
  clientId: string;
  /** The application's secret (sent with HTTP Basic to the token and revocation endpoints). */
  clientSecret: string;
  /** The callback URL, registered with the application exactly: where `GET <mount>/callback` is served. */
  redirectUri: string;
  /** Registered with the application: where the instance sends the user after logout. */
  postLogoutRedirectUri?: string;
  /** Default `openid profile email` (the instance's scopes; refresh tokens need no `offline_access`). */
  scope?: string;
  /** An organization id or slug to sign in to (`organization`); `GET /login?organization=` wins. */
  organization?: string;
  /** Where a failed callback goes, with `?error=<code>`; default a JSON error answer. */
  loginErrorPage?: string;
  /**
   * Where ended sign-ins are remembered for back-channel logout (`POST <mount>/backchannel-logout`,
   * registered as the application's `backchannel_logout_uri`); default this process's memory.
   */
  logoutStore?: LogoutStore;
}

/** Password mode: the BFF posts the user's email and password to `/v1/auth/login`. */
export interface BffPasswordOptions extends BffCommonOptions {
  /** The gateway (or instance) URL, e.g. `http://127.0.0.1:7401`. */
  baseUrl: string;
  /** The publishable key, sent as `X-AuthStack-Key` (omit when talking to an instance directly). */
  apiKey?: string;
  /** The instance's `aud`, checked on every access token. */
  audience: string;
  /** Default `<baseUrl>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Where a form login goes on failure, with `?error=<code>` (default `/login`). */
  loginPage?: string;
  /** Where a form logout goes (default `/`). */
  afterLogout?: string;
}

export type BffOptions = BffRedirectOptions | BffPasswordOptions;

const isRedirect = (options: BffOptions): options is BffRedirectOptions => 'clientId' in options;

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
  /** Redirect mode: the first ID token, the `id_token_hint` of the logout (any expired one is accepted). */
  it?: string;
  /** Redirect mode: the sign-in at the instance (the ID token's `sid`), which a logout token may end. */
  sid?: string;
}

/** The redirect flow between `GET /login` and `GET /callback`. */
interface SealedAuthorization {
  state: string;
  verifier: string;
  nonce: string;
  returnTo: string | undefined;
}

const AUTHORIZATION_MAX_AGE_SEC = 600;

interface TokenResponse {
  access_token: string;
  refresh_token: string;
  /** Absent from the provider's refresh answer: the session keeps its user. */
  user: { id: string; email: string; name?: string | null } | undefined;
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
  /**
   * Mount under a path. Redirect mode: `GET /login`, `GET /callback`, `POST /logout`,
   * `GET /session`, `GET /csrf`, `POST /backchannel-logout` (server to server: mount the router
   * before any CSRF check); password mode: `GET /csrf`, `POST /login`, `POST /logout`, `GET /session`.
   */
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
  const redirect = isRedirect(options) ? options : null;
  const password = isRedirect(options) ? null : options;
  const baseUrl = password ? password.baseUrl.replace(/\/+$/, '') : '';
  const authName = `${options.cookieName ?? 'authstack_session'}_auth`;
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
  const provider: Provider | null = redirect
    ? createProvider({ issuer: redirect.issuer, clientId: redirect.clientId, clientSecret: redirect.clientSecret, fetch: doFetch })
    : null;
  const verifier: Verifier = password
    ? createVerifier({
        issuer: password.issuer,
        audience: password.audience,
        jwksUrl: password.jwksUrl ?? `${baseUrl}/.well-known/jwks.json`,
        ...(password.apiKey ? { apiKey: password.apiKey } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
      })
    : discoveredVerifier(provider!, { clientId: redirect!.clientId, fetch: options.fetch });

  async function instance(path: string, init: { json?: unknown; form?: Record<string, string> }): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (password?.apiKey) headers['x-authstack-key'] = password.apiKey;
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
      pending = provider
        ? provider.token({ grant_type: 'refresh_token', refresh_token: refreshToken }).then(
            (tokens) => ({ ...tokens, user: undefined }),
            (error: unknown) => {
              throw asInstanceError(error);
            },
          )
        : (instance('/v1/auth/refresh', { json: { refresh_token: refreshToken } }) as Promise<TokenResponse>);
      refreshes.set(refreshToken, pending);
      const forget = () => setTimeout(() => refreshes.delete(refreshToken), FRESH_RESULT_MS).unref();
      pending.then(forget, () => refreshes.delete(refreshToken));
    }
    return pending;
  }

  function writeSession(res: Response, tokens: TokenResponse, csrf: string, previous?: SealedSession): SealedSession {
    const user = tokens.user
      ? { id: tokens.user.id, email: tokens.user.email, name: tokens.user.name ?? null }
      : previous!.user;
    const session: SealedSession = { at: tokens.access_token, rt: tokens.refresh_token, csrf, user };
    if (previous?.it) session.it = previous.it;
    if (previous?.sid) session.sid = previous.sid;
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

  const logouts = redirect ? (redirect.logoutStore ?? memoryLogoutStore()) : null;
  /** Whether the instance said (back-channel logout) that the session's sign-in ended. */
  async function endedElsewhere(current: SealedSession): Promise<boolean> {
    if (!logouts) return false;
    if (current.sid && (await logouts.has(`sid:${current.sid}`))) return true;
    return logouts.has(`sub:${current.user.id}`);
  }

  /** `POST /backchannel-logout`: a logout token from the instance (OpenID Connect Back-Channel Logout §2.5). */
  async function backchannelLogout(req: Request, res: Response): Promise<void> {
    res.set('cache-control', 'no-store');
    const token = (await formOf(req)).logout_token;
    if (typeof token !== 'string' || !token) {
      return void res.status(400).json({ error: 'invalid_request', message: 'logout_token is missing.' });
    }
    try {
      const notice = await verifyLogoutToken(token, {
        issuer: (await provider!.metadata()).issuer,
        clientId: redirect!.clientId,
        keys: await provider!.jwks(),
      });
      const until = Date.now() + maxAge * 1000;
      if (notice.sid) await logouts!.add(`sid:${notice.sid}`, until);
      else if (notice.sub) await logouts!.add(`sub:${notice.sub}`, until);
      res.status(200).end();
    } catch (error) {
      if (!(error instanceof LogoutTokenError)) throw error;
      res.status(400).json({ error: 'invalid_request', message: error.message });
    }
  }

  const session = (): RequestHandler => async (req, res, next) => {
    try {
      let current = readSession(req);
      req.auth = null;
      req.user = null;
      if (!current) {
        if (readCookie(req, name)) clearSession(res); // sealed by another key, or altered
        return next();
      }
      if (await endedElsewhere(current)) {
        clearSession(res);
        return next();
      }
      const { exp } = decodeJwt(current.at);
      if ((exp ?? 0) - Date.now() / 1000 < leeway) {
        try {
          current = writeSession(res, await refreshOnce(current.rt), current.csrf, current);
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
      res.redirect(303, `${password?.loginPage ?? '/login'}?error=${encodeURIComponent(error.code)}`);
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
    if (redirect) return endSession(req, res, current);
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
    res.redirect(303, password?.afterLogout ?? '/');
  }

  /** `GET /login`: to the authorization endpoint, the flow's secrets sealed in a 10-minute cookie. */
  async function beginLogin(req: Request, res: Response): Promise<void> {
    const { authorization_endpoint } = await provider!.metadata();
    const query = req.query as Record<string, unknown>;
    const flow: SealedAuthorization = {
      state: randomValue(),
      verifier: randomValue(),
      nonce: randomValue(),
      returnTo: safeReturn(typeof query.returnTo === 'string' ? query.returnTo : undefined),
    };
    const url = new URL(authorization_endpoint);
    const organization = typeof query.organization === 'string' ? query.organization : redirect!.organization;
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: redirect!.clientId,
      redirect_uri: redirect!.redirectUri,
      scope: redirect!.scope ?? 'openid profile email',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: pkceChallenge(flow.verifier),
      code_challenge_method: 'S256',
      ...(organization ? { organization } : {}),
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    setCookie(res, authName, seal(key, authName, flow), cookie, AUTHORIZATION_MAX_AGE_SEC);
    res.redirect(303, url.toString());
  }

  /** `GET /callback`: checks state and `iss`, exchanges the code, validates the ID token, opens the session. */
  async function callback(req: Request, res: Response): Promise<void> {
    const query = req.query as Record<string, string | undefined>;
    const raw = readCookie(req, authName);
    const flow = raw ? unseal<SealedAuthorization>(key, authName, raw) : null;
    setCookie(res, authName, '', cookie, 0); // one attempt per login
    const fail = (status: number, code: string, message: string) => {
      if (redirect!.loginErrorPage) return void res.redirect(303, `${redirect!.loginErrorPage}?error=${encodeURIComponent(code)}`);
      res.status(status).json({ error: code, message });
    };
    if (!flow) return fail(400, 'login_expired', 'The sign-in was not started here, or took too long: start it again.');
    // The state binds the answer to this browser's login (login CSRF); iss to this provider (mix-up, RFC 9207).
    if (typeof query.state !== 'string' || !sameText(query.state, flow.state)) {
      return fail(400, 'state_mismatch', 'The answer does not belong to the sign-in started in this browser.');
    }
    if (query.iss !== (await provider!.metadata()).issuer) {
      return fail(400, 'issuer_mismatch', 'The answer comes from another issuer than the one the sign-in went to.');
    }
    if (query.error) return fail(400, query.error, query.error_description ?? query.error);
    if (!query.code) return fail(400, 'invalid_request', 'The answer carries no authorization code.');
    let tokens: ProviderTokens;
    let claims: Awaited<ReturnType<Provider['verifyIdToken']>>;
    try {
      tokens = await provider!.token({
        grant_type: 'authorization_code',
        code: query.code,
        redirect_uri: redirect!.redirectUri,
        code_verifier: flow.verifier,
      });
      claims = await provider!.verifyIdToken(tokens.id_token, flow.nonce);
      await verifier.verify(tokens.access_token);
    } catch (error) {
      if (error instanceof ProviderError && error.status > 0 && error.status < 500) {
        return fail(400, error.code, error.message);
      }
      if (error instanceof ProviderError && error.status === 0 && error.code !== 'unavailable') {
        return fail(400, error.code, error.message);
      }
      if (error instanceof TokenVerificationError && error.code !== 'jwks_unavailable') {
        return fail(400, 'invalid_token', error.message);
      }
      if (!(error instanceof ProviderError || error instanceof TokenVerificationError)) {
        // jose refused the ID token (signature, iss, aud, exp).
        if ((error as { code?: string }).code?.startsWith('ERR_J')) return fail(400, 'invalid_id_token', (error as Error).message);
        throw error;
      }
      report(error);
      return fail(502, 'unavailable', 'The sign-in could not be completed right now.');
    }
    const user: BffUser = {
      id: String(claims.sub),
      email: typeof claims.email === 'string' ? claims.email : '',
      name: typeof claims.name === 'string' ? claims.name : null,
    };
    const session: SealedSession = {
      at: tokens.access_token,
      rt: tokens.refresh_token,
      csrf: randomBytes(32).toString('base64url'),
      user,
      it: tokens.id_token,
      ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
    };
    setCookie(res, name, seal(key, name, session), cookie, maxAge);
    res.redirect(303, flow.returnTo ?? redirect!.afterLogin ?? '/');
  }

  /**
   * Redirect mode's logout (after the CSRF check): revokes the application's grant, then sends
   * the browser to the end-session endpoint, which ends the sign-in at the instance too. A failed
   * revocation is reported but does not stop the logout: ending the sign-in revokes the grant.
   */
  async function endSession(req: Request, res: Response, current: SealedSession | null): Promise<void> {
    if (current) {
      await provider!.revoke(current.rt, 'refresh_token').catch(report);
    }
    const { end_session_endpoint } = await provider!.metadata();
    let location = redirect!.postLogoutRedirectUri ?? redirect!.afterLogin ?? '/';
    if (end_session_endpoint) {
      const url = new URL(end_session_endpoint);
      url.searchParams.set('client_id', redirect!.clientId);
      if (current?.it) url.searchParams.set('id_token_hint', current.it);
      if (redirect!.postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', redirect!.postLogoutRedirectUri);
      location = url.toString();
    }
    if (wantsJson(req)) return void res.json({ redirectTo: location });
    res.redirect(303, location);
  }

  const router = (): RequestHandler => {
    const restore = session();
    return (req: Request, res: Response, next: NextFunction) => {
      const route = `${req.method} ${req.path}`;
      const run = (handler: () => Promise<void> | void) => Promise.resolve().then(handler).catch(next);
      switch (route) {
        case 'GET /csrf':
          return run(() => void res.json({ csrfToken: csrfToken(req, res) }));
        case 'GET /login':
          return redirect ? run(() => beginLogin(req, res)) : next();
        case 'GET /callback':
          return redirect ? run(() => callback(req, res)) : next();
        case 'POST /login':
          return redirect ? next() : run(() => login(req, res));
        case 'POST /logout':
          return run(() => logout(req, res));
        case 'POST /backchannel-logout':
          return redirect ? run(() => backchannelLogout(req, res)) : next();
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

/** Provider failures as the session middleware reads them. */
function asInstanceError(error: unknown): unknown {
  return error instanceof ProviderError ? new InstanceError(error.status, error.code, error.message) : error;
}
