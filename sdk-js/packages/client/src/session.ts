// The signed-in session of this tab: the access token in memory, the refresh token in storage,
// one refresh in flight, refreshes ahead of expiry, and the other tabs kept in step.
import type { AuthState, AuthStateListener, StorageKind } from './api';
import {
  type BroadcastChannelLike,
  type ClientEnvironment,
  type LockManagerLike,
  type StorageLike,
  hostEnvironment,
  memoryStorage,
} from './environment';
import { AuthStackError, NetworkError } from './errors';
import type { Transport } from './http';
import { type AccessTokenClaims, decodeAccessToken } from './jwt';
import type { Permission } from './permissions';
import { type TabMessage, withTabLock } from './tabs';
import type { TokenResponse, User } from './types';

export interface SessionOptions {
  storage: StorageKind | undefined;
  storageKey: string;
  refreshLeewayMs: number;
  autoRefresh: boolean;
  crossTab: boolean;
  environment: ClientEnvironment | undefined;
  onError: (error: unknown) => void;
}

interface AccessToken {
  token: string;
  claims: AccessTokenClaims;
  /** When to refresh, on this device's clock. */
  refreshAt: number;
  expiresAt: number;
}

/** A session from the redirect flow: refreshed and revoked at the OpenID Provider's endpoints. */
export interface OidcBinding {
  clientId: string;
  tokenEndpoint: string;
  revocationEndpoint: string;
  endSessionEndpoint?: string;
  /** The `id_token_hint` of RP-initiated logout (an expired one is accepted). */
  idToken: string;
}

/** What storage holds: the refresh token and the session it belongs to. */
interface StoredSession {
  refresh_token: string;
  sid: string;
  oidc?: OidcBinding;
}

const EMPTY = {
  user: null,
  userId: null,
  sessionId: null,
  authMethods: [],
  organizationId: null,
  organizationSlug: null,
  role: null,
  permissions: [],
} as const;
const LOADING: AuthState = { status: 'loading', ...EMPTY, authMethods: [], permissions: [] };
const SIGNED_OUT: AuthState = { status: 'signed-out', ...EMPTY, authMethods: [], permissions: [] };

/** A refresh request that has not answered by then is abandoned (the lock must not be held forever). */
const REFRESH_TIMEOUT_MS = 10_000;
const RETRY_MIN_MS = 5_000;
/** How long a tab that finds the token rotated by another tab waits for that tab's message. */
const BROADCAST_WAIT_MS = 1_000;
const RETRY_MAX_MS = 300_000;

export class Session {
  private state: AuthState = LOADING;
  private readonly listeners = new Set<AuthStateListener>();
  private access: AccessToken | null = null;
  private refreshing: Promise<void> | null = null;
  private loading: Promise<AuthState> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = RETRY_MIN_MS;
  private attached = false;
  private destroyed = false;
  private store: StorageLike = memoryStorage();
  private kind: StorageKind = 'memory';
  private channel: BroadcastChannelLike | null = null;
  private locks: LockManagerLike | null = null;
  private leaseStorage: StorageLike | null = null;
  private unlisten: (() => void) | null = null;
  /** The refresh token this tab last stored or was told of. */
  private seenRefreshToken: string | null = null;
  private tokenWaiters: (() => void)[] = [];

  constructor(
    private readonly transport: Transport,
    private readonly options: SessionOptions,
  ) {}

  getState = (): AuthState => this.state;

  subscribe = (listener: AuthStateListener): (() => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  /** Restores the stored session. Rejects (state stays `loading`) when the refresh got no answer. */
  load(): Promise<AuthState> {
    if (this.loading) return this.loading;
    const loading = (async () => {
      this.attach();
      if (this.access) return this.state;
      this.seenRefreshToken ??= this.readStored()?.refresh_token ?? null;
      if (!this.readStored()) {
        this.setState(SIGNED_OUT);
        return this.state;
      }
      await this.refresh(null).catch((error: unknown) => {
        if (!sessionEnded(error)) throw error;
      });
      return this.state;
    })();
    this.loading = loading;
    loading.catch(() => {
      if (this.loading === loading) this.loading = null;
    });
    return loading;
  }

  /** Waits for a restore in progress, so that a new sign-in is not overwritten by it. */
  async settle(): Promise<void> {
    this.attach();
    // The restore's failure reaches whoever called load(); a sign-in replaces that session anyway.
    if (this.loading) await this.loading.catch(() => undefined);
  }

  /** A valid access token, refreshed first when due; null when signed out. */
  async accessToken(): Promise<string | null> {
    await this.load();
    const access = this.access;
    if (!access) return null;
    if (Date.now() < access.refreshAt) return access.token;
    await this.refresh(access.token);
    return this.access?.token ?? null;
  }

  /** Sends with the access token; on `401 unauthorized`, refreshes once and sends again. */
  async authorized<T>(send: (bearer: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken();
    if (!token) throw new AuthStackError('signed_out', 0, 'This needs a signed-in user.');
    try {
      return await send(token);
    } catch (error) {
      if (!(error instanceof AuthStackError && error.status === 401 && error.code === 'unauthorized')) {
        throw error;
      }
      await this.refresh(token);
      const renewed = this.access?.token;
      if (!renewed) throw new AuthStackError('signed_out', 0, 'The session has ended.');
      return send(renewed);
    }
  }

  /** The access token when signed in (without refreshing), for endpoints that take either. */
  currentToken(): string | undefined {
    return this.access && Date.now() < this.access.expiresAt ? this.access.token : undefined;
  }

  /**
   * Rotates the refresh token, sharing a refresh already in flight. `stale` is the access token
   * the caller found wanting (`null`: none); if the session moved on past it while waiting for
   * the lock (another tab refreshed), nothing is spent. Without `stale`, always refreshes.
   */
  refresh(stale?: string | null): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const refreshing = this.rotate(stale).finally(() => {
      if (this.refreshing === refreshing) this.refreshing = null;
    });
    this.refreshing = refreshing;
    return refreshing;
  }

  private async rotate(stale: string | null | undefined): Promise<void> {
    this.attach();
    await withTabLock(this.lockName(), this.locks, this.leaseStorage, async () => {
      const current = this.access;
      if (stale !== undefined && current && current.token !== stale && Date.now() < current.refreshAt) {
        return;
      }
      let stored = this.readStored();
      if (stored && this.channel && this.seenRefreshToken && stored.refresh_token !== this.seenRefreshToken) {
        // Another tab rotated the token since this one last saw it; its tokens are on their way
        // over the channel. Wait briefly for them rather than rotating again.
        await this.nextTokens(BROADCAST_WAIT_MS);
        const adopted = this.access;
        if (adopted && adopted.token !== stale && Date.now() < adopted.refreshAt) return;
        stored = this.readStored();
      }
      if (!stored) {
        this.endLocally(false);
        return;
      }
      let response: TokenResponse;
      const abort = new AbortController();
      const timeout = setTimeout(() => abort.abort(), REFRESH_TIMEOUT_MS);
      try {
        response = stored.oidc
          ? {
              ...((await this.transport.request({
                method: 'post',
                url: stored.oidc.tokenEndpoint,
                keyless: true,
                form: { grant_type: 'refresh_token', refresh_token: stored.refresh_token, client_id: stored.oidc.clientId },
                signal: abort.signal,
              })) as TokenResponse),
              user: this.state.user as User,
            }
          : ((await this.transport.request({
              method: 'post',
              path: '/v1/auth/refresh',
              body: { refresh_token: stored.refresh_token },
              signal: abort.signal,
            })) as TokenResponse);
      } catch (error) {
        if (sessionEnded(error) && this.readStored()?.refresh_token === stored.refresh_token) {
          this.endLocally(true);
        }
        throw error;
      } finally {
        clearTimeout(timeout);
      }
      this.applyTokens(response, true, stored.oidc);
    });
  }

  /** A session from the redirect flow (`handleRedirectCallback`): its user is null until `/v1/me` says. */
  adoptRedirect(tokens: { access_token: string; refresh_token: string }, oidc: OidcBinding): void {
    this.attach();
    this.applyTokens({ ...tokens, user: null } as unknown as TokenResponse, true, oidc);
  }

  /** A new session (sign-in, sign-up, email verification, invitation): stored and broadcast. */
  adopt(response: TokenResponse): User {
    this.attach();
    this.applyTokens(response, true);
    return response.user;
  }

  /** A new access token for the same session (organization switch). */
  adoptAccessToken(token: string): void {
    const stored = this.readStored();
    if (!stored) throw new AuthStackError('signed_out', 0, 'The session has ended.');
    this.setAccess(token, this.state.user);
    this.post({ type: 'tokens', sid: stored.sid, accessToken: token, refreshToken: stored.refresh_token, user: this.state.user });
  }

  /** The user changed (`/v1/me`): here and in the tabs of the same session. */
  setUser(user: User): void {
    const sid = this.state.sessionId;
    if (this.state.status !== 'signed-in' || !sid) return;
    this.setState({ ...this.state, user });
    this.post({ type: 'user', sid, user });
  }

  /**
   * Ends the session: `local` revokes its refresh token, `global` every session of the user.
   * A redirect-flow session is revoked at the provider (`/oauth2/revoke`); with `endSession`,
   * the browser then goes to the provider's end-session endpoint.
   */
  async signOut(
    scope: 'local' | 'global',
    endSession?: { postLogoutRedirectUri?: string | undefined; navigate: (url: string) => void },
  ): Promise<void> {
    this.attach();
    const oidc = this.readStored()?.oidc;
    if (oidc) return this.signOutOfProvider(oidc, endSession);
    if (scope === 'global') {
      await this.authorized((bearer) =>
        this.transport.call('post', '/v1/auth/logout', { body: { scope: 'global' }, bearer }),
      );
      this.endLocally(true);
      return;
    }
    const stored = await withTabLock(this.lockName(), this.locks, this.leaseStorage, async () => {
      const stored = this.readStored();
      this.endLocally(true);
      return stored;
    });
    // Signed out here and in every tab first: if the instance cannot be told, the error says so.
    if (stored) {
      await this.transport.request({
        method: 'post',
        path: '/v1/auth/revoke',
        form: { token: stored.refresh_token, token_type_hint: 'refresh_token' },
      });
    }
  }

  private async signOutOfProvider(
    oidc: OidcBinding,
    endSession: { postLogoutRedirectUri?: string | undefined; navigate: (url: string) => void } | undefined,
  ): Promise<void> {
    const stored = await withTabLock(this.lockName(), this.locks, this.leaseStorage, async () => {
      const stored = this.readStored();
      this.endLocally(true);
      return stored;
    });
    if (stored) {
      await this.transport.request({
        method: 'post',
        url: oidc.revocationEndpoint,
        keyless: true,
        form: { token: stored.refresh_token, token_type_hint: 'refresh_token', client_id: oidc.clientId },
      });
    }
    if (endSession && oidc.endSessionEndpoint) {
      const url = new URL(oidc.endSessionEndpoint);
      url.searchParams.set('client_id', oidc.clientId);
      url.searchParams.set('id_token_hint', oidc.idToken);
      if (endSession.postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', endSession.postLogoutRedirectUri);
      endSession.navigate(url.toString());
    }
  }

  /** Forgets the session here and (with `broadcast`) in the other tabs; the instance already ended it. */
  endLocally(broadcast: boolean): void {
    const sid = this.state.sessionId;
    this.writeStored(null);
    this.access = null;
    clearTimeout(this.timer);
    this.setState(SIGNED_OUT);
    if (broadcast) this.post({ type: 'signed-out', sid });
  }

  destroy(): void {
    this.destroyed = true;
    clearTimeout(this.timer);
    this.channel?.close();
    this.channel = null;
    this.unlisten?.();
    this.listeners.clear();
  }

  private applyTokens(response: TokenResponse, broadcast: boolean, oidc?: OidcBinding): void {
    const claims = this.setAccess(response.access_token, response.user);
    this.writeStored({ refresh_token: response.refresh_token, sid: claims.sid, ...(oidc ? { oidc } : {}) });
    this.seenRefreshToken = response.refresh_token;
    if (broadcast) {
      this.post({
        type: 'tokens',
        sid: claims.sid,
        accessToken: response.access_token,
        refreshToken: response.refresh_token,
        user: response.user,
      });
    }
  }

  private setAccess(token: string, user: User | null): AccessTokenClaims {
    const claims = decodeAccessToken(token);
    // The lifetime from the token itself, counted on this device's clock: a skewed clock does
    // not make a fresh token look expired.
    const lifetime = Math.max(0, claims.exp - claims.iat) * 1000;
    const now = Date.now();
    const leeway = Math.min(this.options.refreshLeewayMs, lifetime / 2);
    this.access = { token, claims, expiresAt: now + lifetime, refreshAt: now + lifetime - leeway };
    this.retryMs = RETRY_MIN_MS;
    this.setState(stateFrom(claims, user ?? null));
    this.schedule(this.access.refreshAt - now + Math.random() * Math.min(2_000, leeway / 4));
    return claims;
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    if (!this.options.autoRefresh || this.destroyed || !this.access) return;
    const token = this.access.token;
    this.timer = setTimeout(() => {
      this.refresh(token).catch((error: unknown) => {
        this.options.onError(error);
        if (error instanceof NetworkError && this.access) {
          this.schedule(this.retryMs);
          this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        }
      });
    }, Math.max(0, delay));
    (this.timer as { unref?: () => void }).unref?.();
  }

  private onMessage(message: TabMessage): void {
    const sameSession = message.sid === this.state.sessionId;
    // Tabs on localStorage share one session; with sessionStorage only a duplicated tab does.
    if (this.kind !== 'localStorage' && !sameSession) return;
    if (message.type === 'signed-out') {
      if (this.state.status !== 'signed-out') this.endLocally(false);
      return;
    }
    if (message.type === 'user') {
      if (sameSession && this.state.status === 'signed-in') this.setState({ ...this.state, user: message.user });
      return;
    }
    const incoming = decodeAccessToken(message.accessToken);
    if (sameSession && this.access && incoming.iat < this.access.claims.iat) return;
    if (this.kind !== 'localStorage') {
      const oidc = this.readStored()?.oidc;
      this.writeStored({ refresh_token: message.refreshToken, sid: message.sid, ...(oidc ? { oidc } : {}) });
    }
    this.seenRefreshToken = message.refreshToken;
    this.setAccess(message.accessToken, message.user ?? this.state.user);
    for (const wake of this.tokenWaiters.splice(0)) wake();
  }

  /** Resolves when another tab's tokens arrive, or after `ms`. */
  private nextTokens(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.tokenWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Without BroadcastChannel: another tab wrote or cleared the stored session. */
  private onStorage(raw: string | null): void {
    const stored = parseStored(raw);
    if (!stored) {
      if (this.state.status === 'signed-in') this.endLocally(false);
    } else if (stored.sid !== this.state.sessionId) {
      // Signed in elsewhere: get this tab an access token (under the lock, from the new token).
      this.refresh(null).catch(this.options.onError);
    }
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    const requested = this.options.storage;
    if (requested === 'memory') return;
    const env = { ...hostEnvironment(), ...this.options.environment };
    const storage = requested === 'sessionStorage' ? env.sessionStorage : env.localStorage;
    if (!storage) {
      if (requested) {
        this.options.onError(new Error(`AuthStack: ${requested} is not available here; the session is kept in memory`));
      }
      return;
    }
    this.kind = requested ?? 'localStorage';
    this.store = storage;
    if (!this.options.crossTab) return;
    this.locks = env.locks ?? null;
    this.leaseStorage = this.kind === 'localStorage' ? storage : null;
    if (env.BroadcastChannel) {
      const channel = new env.BroadcastChannel(`authstack:${this.options.storageKey}`);
      channel.onmessage = (event) => {
        try {
          this.onMessage(event.data as TabMessage);
        } catch (error) {
          this.options.onError(error);
        }
      };
      this.channel = channel;
    } else if (this.kind === 'localStorage' && env.onStorage) {
      const key = this.storedKey();
      this.unlisten = env.onStorage((changed, value) => {
        if (changed === key) this.onStorage(value);
      });
    }
  }

  private post(message: TabMessage): void {
    this.channel?.postMessage(message);
  }

  private lockName(): string {
    return `authstack:${this.options.storageKey}:refresh`;
  }

  private storedKey(): string {
    return `authstack:${this.options.storageKey}:session`;
  }

  private readStored(): StoredSession | null {
    return parseStored(this.store.getItem(this.storedKey()));
  }

  private writeStored(value: StoredSession | null): void {
    if (value) this.store.setItem(this.storedKey(), JSON.stringify(value));
    else this.store.removeItem(this.storedKey());
  }

  private setState(next: AuthState): void {
    if (sameState(this.state, next)) return;
    this.state = next;
    for (const listener of [...this.listeners]) {
      try {
        listener(next);
      } catch (error) {
        this.options.onError(error);
      }
    }
  }
}

function stateFrom(claims: AccessTokenClaims, user: User | null): AuthState {
  return {
    status: 'signed-in',
    user,
    userId: claims.sub,
    sessionId: claims.sid,
    authMethods: claims.amr ?? [],
    organizationId: claims.org_id ?? null,
    organizationSlug: claims.org_slug ?? null,
    role: claims.org_role ?? null,
    permissions: (claims.permissions ?? []) as Permission[],
  };
}

function sameState(a: AuthState, b: AuthState): boolean {
  return (
    a.status === b.status &&
    a.user === b.user &&
    a.userId === b.userId &&
    a.sessionId === b.sessionId &&
    a.organizationId === b.organizationId &&
    a.organizationSlug === b.organizationSlug &&
    a.authMethods.join() === b.authMethods.join() &&
    a.role === b.role &&
    a.permissions.join() === b.permissions.join()
  );
}

function parseStored(raw: string | null): StoredSession | null {
  if (!raw) return null;
  try {
    const value = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof value.refresh_token !== 'string' || typeof value.sid !== 'string') return null;
    const oidc = value.oidc;
    const bound = oidc && typeof oidc.tokenEndpoint === 'string' && typeof oidc.clientId === 'string';
    return { refresh_token: value.refresh_token, sid: value.sid, ...(bound ? { oidc } : {}) };
  } catch {
    return null;
  }
}

/** A refresh answer meaning the session is over (revoked, expired, reused, user banned). */
export function sessionEnded(error: unknown): boolean {
  return (
    error instanceof AuthStackError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 429 &&
    error.code !== 'invalid_api_key' &&
    error.code !== 'origin_not_allowed'
  );
}
