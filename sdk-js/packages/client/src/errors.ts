/** The error codes the instance and the gateway answer with, plus the client's own. */
export type AuthStackErrorCode =
  // instance
  | 'invalid_request'
  | 'weak_password'
  | 'invalid_credentials'
  | 'invalid_grant'
  | 'email_not_verified'
  | 'user_banned'
  | 'rate_limited'
  | 'unauthorized'
  | 'invalid_key'
  | 'forbidden'
  | 'limit_exceeded'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'method_not_allowed'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'gateway_required'
  | 'internal_error'
  // gateway
  | 'invalid_api_key'
  | 'origin_not_allowed'
  | 'instance_unavailable'
  | 'upstream_timeout'
  // this client: a call that needs a session was made while signed out
  | 'signed_out'
  // the redirect flow: the OpenID Provider's answers (RFC 6749) and the callback's checks
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'invalid_client'
  | 'login_expired'
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'nonce_mismatch'
  | 'invalid_id_token'
  // a response that is not the API's JSON error body (e.g. a proxy's HTML page)
  | 'unexpected_response';

/** The API (or the gateway) answered with an error. `code` is its stable `error` string. */
export class AuthStackError extends Error {
  override readonly name: string = 'AuthStackError';
  /** The API's `error` code; an unknown future code is passed through as is. */
  readonly code: AuthStackErrorCode | (string & {});
  /** The HTTP status; 0 for `signed_out`, which no request produced. */
  readonly status: number;
  /** The gateway's or instance's `X-Request-Id`, for support requests. */
  readonly requestId: string | undefined;

  constructor(code: string, status: number, message: string, requestId?: string) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/** `429 rate_limited`: retry after `retryAfterSeconds` (from `Retry-After`, when given). */
export class RateLimitedError extends AuthStackError {
  override readonly name = 'RateLimitedError';
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, message: string, retryAfterSeconds?: number, requestId?: string) {
    super('rate_limited', status, message, requestId);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No answer: the network failed, the request was aborted, or the gateway is unreachable. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when `error` is an `AuthStackError`, with `code` when given. */
export function isAuthStackError<C extends AuthStackErrorCode>(
  error: unknown,
  code?: C,
): error is AuthStackError & { code: C } {
  return error instanceof AuthStackError && (code === undefined || error.code === code);
}
