// Express middleware: `authstack()` verifies the bearer token into `req.auth`; the guards answer
// 401 (no valid token) or 403 (not allowed) with the API's error body `{ error, message }`.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type AuthContext, TokenVerificationError, type VerifyOptions, createVerifier } from './verify';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The verified access token's context; null when the request carried none. */
      auth?: AuthContext | null;
    }
  }
}

export interface MiddlewareOptions extends VerifyOptions {
  /** Answer 401 to requests without a valid token (default false: `req.auth = null`, guards decide). */
  required?: boolean;
  /** Where JWKS failures are reported (default `console.error`); the request gets a 503. */
  onError?: (error: unknown) => void;
}

/** Verifies `Authorization: Bearer <access token>` and sets `req.auth`. */
export function authstack(options: MiddlewareOptions): RequestHandler {
  const verifier = createVerifier(options);
  const report = options.onError ?? ((error: unknown) => console.error('AuthStack:', error));
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!token) {
      req.auth = null;
      if (options.required) return deny(res, 401, 'unauthorized', 'An access token is required.');
      return next();
    }
    verifier.verify(token).then(
      (auth) => {
        req.auth = auth;
        next();
      },
      (error: unknown) => {
        if (error instanceof TokenVerificationError && error.code !== 'jwks_unavailable') {
          req.auth = null;
          return deny(res, 401, 'unauthorized', 'The access token is invalid or expired.');
        }
        report(error);
        deny(res, 503, 'unavailable', 'The access token cannot be checked right now.');
      },
    );
  };
}

/** 401 without a verified token. */
export function requireAuth(): RequestHandler {
  return guard(() => null);
}

/** 403 unless the token's organization role grants `permission`. */
export function requirePermission(permission: string): RequestHandler {
  return guard((auth) =>
    auth.permissions.includes(permission) ? null : `This needs the permission ${permission} in the current organization.`,
  );
}

/**
 * 403 unless the session works in an organization — the one named by the route parameter
 * `param` (e.g. `'orgId'` for `/orgs/:orgId/...`) when given.
 */
export function requireOrganization(options: { param?: string } = {}): RequestHandler {
  return guard((auth, req) => {
    if (!auth.organizationId) return 'Select an organization first.';
    const wanted = options.param ? req.params[options.param] : undefined;
    if (options.param && wanted !== auth.organizationId) return 'The session works in another organization.';
    return null;
  });
}

/** 403 unless the role in the current organization is one of `roles`. */
export function requireRole(...roles: string[]): RequestHandler {
  return guard((auth) =>
    auth.role && roles.includes(auth.role) ? null : `This needs the role ${roles.join(' or ')} in the current organization.`,
  );
}

function guard(refusal: (auth: AuthContext, req: Request) => string | null): RequestHandler {
  return (req, res, next) => {
    if (req.auth === undefined) {
      return next(new Error('AuthStack: mount authstack() (or the BFF session middleware) before the guards'));
    }
    if (!req.auth) return deny(res, 401, 'unauthorized', 'An access token is required.');
    const reason = refusal(req.auth, req);
    if (reason) return deny(res, 403, 'forbidden', reason);
    next();
  };
}

function deny(res: Response, status: number, error: string, message: string): void {
  res.status(status).json({ error, message });
}
