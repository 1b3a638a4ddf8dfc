// One request to the gateway: URL, headers, body encoding and the mapping of failures to errors.
// `call` types a request by the OpenAPI path and method, so the client cannot drift from the API.
import { AuthStackError, NetworkError, RateLimitedError } from './errors';
import type { paths } from './generated/openapi';

export type Method = 'get' | 'post' | 'patch' | 'delete';

type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonContent<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Responses<O> = O extends { responses: infer R } ? R : never;
type SuccessStatus = 200 | 201 | 202;

/** The JSON body of an operation's success answers; `void` for one that answers 204 only. */
export type Success<O> = [JsonContent<Responses<O>[keyof Responses<O> & SuccessStatus]>] extends [
  never,
]
  ? void
  : JsonContent<Responses<O>[keyof Responses<O> & SuccessStatus]>;

export type CallInit<O> = {
  path?: O extends { parameters: { path: infer P } } ? P : never;
  query?: O extends { parameters: { query?: infer Q } } ? Q : never;
  body?: O extends { requestBody?: infer B } ? JsonContent<NonNullable<B>> : never;
};

/** How a request authenticates, besides the API key. */
export type Credentials = { bearer?: string };

export interface RequestSpec {
  method: Method;
  /** Appended to the base URL; ignored when `url` is given. */
  path?: string;
  /** An absolute URL (the OpenID Provider's endpoints, named by its discovery document). */
  url?: string;
  /** Without `X-AuthStack-Key`: the provider's endpoints authenticate the client themselves, and a
   * form POST without custom headers needs no CORS preflight. */
  keyless?: boolean;
  query?: Record<string, unknown> | undefined;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (RFC 7009 revocation). */
  form?: Record<string, string>;
  bearer?: string | undefined;
  /** Read the answer as text (CSV and JSON Lines exports). */
  text?: boolean;
  signal?: AbortSignal;
}

export interface TransportOptions {
  baseUrl: string;
  /** The publishable key; absent for the admin client, which authenticates by bearer. */
  apiKey?: string | undefined;
  fetch?: typeof fetch | undefined;
}

export class Transport {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch | undefined;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl;
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch;
  }

  /** A request typed by the OpenAPI document's path and method. */
  call<P extends keyof paths, M extends Method>(
    method: M,
    path: P,
    init: CallInit<Operation<P, M>> & { bearer?: string | undefined },
  ): Promise<Success<Operation<P, M>>> {
    const params = (init.path ?? {}) as Record<string, string>;
    const concrete = (path as string).replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`${path}: path parameter ${name} missing`);
      return encodeURIComponent(value);
    });
    return this.request({
      method,
      path: concrete,
      query: init.query as Record<string, unknown> | undefined,
      body: init.body,
      bearer: init.bearer,
    }) as Promise<Success<Operation<P, M>>>;
  }

  async request(spec: RequestSpec): Promise<unknown> {
    const url = new URL(spec.url ?? this.baseUrl + (spec.path ?? ''));
    const label = spec.path ?? url.pathname;
    for (const [name, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apiKey && !spec.keyless) headers['x-authstack-key'] = this.apiKey;
    if (spec.bearer) headers.authorization = `Bearer ${spec.bearer}`;
    let body: string | undefined;
    if (spec.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(spec.form).toString();
    } else if (spec.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }

    const doFetch = this.fetchImpl ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(url.toString(), {
        method: spec.method.toUpperCase(),
        headers,
        body,
        credentials: 'omit',
        signal: spec.signal,
      });
    } catch (cause) {
      throw new NetworkError(
        `${spec.method.toUpperCase()} ${label} got no answer: ${(cause as Error)?.message ?? cause}`,
        { cause },
      );
    }
    if (!response.ok) throw await errorFrom(response);
    if (response.status === 204) return undefined;
    const text = await response.text();
    if (spec.text) return text;
    if (text === '') return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new AuthStackError(
        'unexpected_response',
        response.status,
        `${spec.method.toUpperCase()} ${label}: the answer is not JSON`,
        requestIdOf(response),
      );
    }
  }
}

async function errorFrom(response: Response): Promise<AuthStackError> {
  const requestId = requestIdOf(response);
  let code = 'unexpected_response';
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: unknown; message?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') {
      code = body.error;
      // The API's `message`, or an OAuth endpoint's `error_description` (RFC 6749 §5.2).
      message = typeof body.message === 'string' ? body.message : typeof body.error_description === 'string' ? body.error_description : code;
    }
  } catch {
    // Not the API's JSON error body (a proxy's page, say): `unexpected_response` says so.
  }
  if (response.status === 429 || code === 'rate_limited') {
    const retryAfter = Number(response.headers.get('retry-after'));
    return new RateLimitedError(
      response.status,
      message,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      requestId,
    );
  }
  return new AuthStackError(code, response.status, message, requestId);
}

function requestIdOf(response: Response): string | undefined {
  return response.headers.get('x-request-id') ?? undefined;
}

/** The gateway URL for `baseUrl` or `region`; `baseUrl` wins. */
export function resolveBaseUrl(options: { baseUrl?: string | undefined; region?: string | undefined }): string {
  if (options.baseUrl) return options.baseUrl.replace(/\/+$/, '');
  if (options.region) {
    if (!/^[a-z0-9-]+$/.test(options.region)) {
      throw new TypeError(`region ${JSON.stringify(options.region)} is not a region name`);
    }
    return `https://${options.region}.api.authstack.io`;
  }
  throw new TypeError('AuthStack: give `baseUrl` or `region`');
}
