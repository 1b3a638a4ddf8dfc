// A stateful stand-in for an AuthStack instance behind the gateway, answering the client's
// fetches: sessions with rotating refresh tokens and reuse detection (a reused token revokes the
// family, as the instance does), access tokens with the real claim set, organizations. Every
// request is recorded so tests can assert the exact shapes sent.
import type { BroadcastChannelLike, LockManagerLike, StorageLike } from './environment';

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

interface FakeSession {
  sid: string;
  userId: string;
  current: string;
  spent: Set<string>;
  revoked: boolean;
  orgId: string | null;
}

export interface FakeInstanceOptions {
  ttlSeconds?: number;
  /** Delay of every refresh answer, to let concurrent callers pile up. */
  refreshDelayMs?: number;
}

export const USER = {
  id: 'usr_1',
  email: 'ada@example.com',
  email_verified: true,
  has_password: true,
  metadata: {},
  name: 'Ada',
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

export const ORG = {
  id: 'org_1',
  name: 'Acme',
  slug: 'acme',
  branding: {},
  settings: {},
  logo_url: null,
  created_at: '2025-01-01T00:00:00Z',
  updated_at: '2025-01-01T00:00:00Z',
};

export class FakeInstance {
  readonly requests: Recorded[] = [];
  readonly sessions = new Map<string, FakeSession>();
  /** Set to make the next answers fail without reaching the "instance". */
  offline = false;
  /** Handlers for paths the fake does not model; keyed `METHOD /path`. */
  readonly routes = new Map<string, (req: Recorded) => Response | Promise<Response>>();
  private counter = 0;
  private readonly ttl: number;
  private readonly refreshDelayMs: number;

  constructor(options: FakeInstanceOptions = {}) {
    this.ttl = options.ttlSeconds ?? 300;
    this.refreshDelayMs = options.refreshDelayMs ?? 0;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(
      Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const raw = init?.body as string | undefined;
    const body =
      raw === undefined
        ? undefined
        : headers['content-type'] === 'application/x-www-form-urlencoded'
          ? Object.fromEntries(new URLSearchParams(raw))
          : JSON.parse(raw);
    const req: Recorded = { method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, headers, body };
    this.requests.push(req);
    if (this.offline) throw new TypeError('fetch failed');
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    return this.answer(req);
  };

  count(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  /** A signed-in session as the instance would create it; returns its TokenResponse. */
  login(orgId: string | null = null) {
    const sid = `ses_${++this.counter}`;
    const session: FakeSession = {
      sid,
      userId: USER.id,
      current: this.newRefreshToken(),
      spent: new Set(),
      revoked: false,
      orgId,
    };
    this.sessions.set(sid, session);
    return this.tokens(session);
  }

  accessToken(session: { sid: string; userId: string; orgId: string | null }, ttl = this.ttl): string {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: 'http://instance.test',
      aud: 'ins_test',
      sub: session.userId,
      sid: session.sid,
      iat: now,
      exp: now + ttl,
      jti: `jti_${++this.counter}`,
      amr: ['pwd'],
      email: USER.email,
      email_verified: true,
    };
    if (session.orgId) {
      Object.assign(claims, {
        org_id: session.orgId,
        org_slug: 'acme',
        org_role: 'admin',
        permissions: ['organization:read', 'members:read', 'members:invite'],
      });
    }
    return `${encode({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${encode(claims)}.c2ln`;
  }

  private tokens(session: FakeSession) {
    return {
      user: USER,
      access_token: this.accessToken(session),
      refresh_token: session.current,
      token_type: 'Bearer',
      expires_in: this.ttl,
    };
  }

  private newRefreshToken(): string {
    return `rt_${++this.counter}_${Math.random().toString(36).slice(2)}`;
  }

  private bearerSession(req: Recorded): FakeSession | null {
    const token = req.headers.authorization?.replace(/^Bearer /, '');
    if (!token) return null;
    const claims = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as {
      sid: string;
      exp: number;
    };
    const session = this.sessions.get(claims.sid);
    if (!session || session.revoked || claims.exp <= Date.now() / 1000) return null;
    return session;
  }

  private async answer(req: Recorded): Promise<Response> {
    const custom = this.routes.get(`${req.method} ${req.path}`);
    if (custom) return custom(req);
    if (req.method === 'POST' && req.path === '/v1/auth/login') {
      const body = req.body as { password: string; org_id?: string };
      if (body.password !== 'correct horse battery') {
        return json(401, { error: 'invalid_credentials', message: 'The email or password is wrong.' });
      }
      return json(200, this.login(body.org_id ?? null));
    }
    if (req.method === 'POST' && req.path === '/v1/auth/refresh') {
      if (this.refreshDelayMs) await new Promise((r) => setTimeout(r, this.refreshDelayMs));
      const token = (req.body as { refresh_token: string }).refresh_token;
      for (const session of this.sessions.values()) {
        if (session.spent.has(token)) {
          session.revoked = true; // reuse: the whole family is revoked
          return json(400, { error: 'invalid_grant', message: 'The refresh token was already used.' });
        }
        if (session.current === token && !session.revoked) {
          session.spent.add(token);
          session.current = this.newRefreshToken();
          return json(200, this.tokens(session));
        }
      }
      return json(400, { error: 'invalid_grant', message: 'The refresh token is invalid or expired.' });
    }
    if (req.method === 'POST' && req.path === '/v1/auth/revoke') {
      const token = (req.body as { token: string }).token;
      for (const session of this.sessions.values()) if (session.current === token) session.revoked = true;
      return new Response(null, { status: 200 });
    }
    const session = this.bearerSession(req);
    if (!session) return json(401, { error: 'unauthorized', message: 'the access token is invalid or expired' });
    if (req.method === 'GET' && req.path === '/v1/me') return json(200, USER);
    if (req.method === 'POST' && req.path === '/v1/auth/logout') {
      for (const s of this.sessions.values()) if (s.userId === session.userId) s.revoked = true;
      return new Response(null, { status: 204 });
    }
    const switching = /^\/v1\/organizations\/([^/]+)\/switch$/.exec(req.path);
    if (req.method === 'POST' && switching) {
      session.orgId = decodeURIComponent(switching[1]!);
      return json(200, {
        access_token: this.accessToken(session),
        token_type: 'Bearer',
        expires_in: this.ttl,
        organization: { ...ORG, id: session.orgId },
        role: 'admin',
        permissions: ['organization:read', 'members:read', 'members:invite'],
      });
    }
    return json(404, { error: 'not_found', message: `no fake route for ${req.method} ${req.path}` });
  }
}

function encode(value: unknown): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** An in-process Web Locks `request`: exclusive, FIFO per name. */
export function fakeLocks(): LockManagerLike & { granted: number } {
  const tails = new Map<string, Promise<unknown>>();
  const manager = {
    granted: 0,
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(() => {
        manager.granted += 1;
        return callback();
      });
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
  return manager;
}

/** BroadcastChannels of one "browser": a message reaches every other channel of the same name, later. */
export function fakeBroadcastBus(): new (name: string) => BroadcastChannelLike {
  const channels = new Set<{ name: string; channel: BroadcastChannelLike }>();
  return class FakeBroadcastChannel implements BroadcastChannelLike {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    private readonly entry: { name: string; channel: BroadcastChannelLike };
    constructor(readonly name: string) {
      this.entry = { name, channel: this };
      channels.add(this.entry);
    }
    postMessage(message: unknown): void {
      const data = structuredClone(message);
      for (const { name, channel } of channels) {
        if (channel !== this && name === this.name) setTimeout(() => channel.onmessage?.({ data }), 0);
      }
    }
    close(): void {
      channels.delete(this.entry);
    }
  };
}

/** One browser's localStorage shared by several "tabs", firing `storage` events in the others. */
export function sharedStorage() {
  const items = new Map<string, string>();
  const listeners = new Map<number, (key: string | null, value: string | null) => void>();
  let nextTab = 0;
  const tab = () => {
    const id = ++nextTab;
    const fire = (key: string, value: string | null) => {
      for (const [other, listener] of listeners) if (other !== id) setTimeout(() => listener(key, value), 0);
    };
    const storage: StorageLike = {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => {
        items.set(key, value);
        fire(key, value);
      },
      removeItem: (key) => {
        items.delete(key);
        fire(key, null);
      },
    };
    const onStorage = (listener: (key: string | null, value: string | null) => void) => {
      listeners.set(id, listener);
      return () => void listeners.delete(id);
    };
    return { storage, onStorage };
  };
  return { items, tab };
}
