// A real AuthStack instance for the SDK tests: the `authstack-instance` binary of this repository
// (cargo build -p authstack-instance), on loopback, with SQLite in a temporary data dir.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
export const INSTANCE_BIN = process.env.AUTHSTACK_INSTANCE_BIN ?? path.join(REPO, 'target/debug/authstack-instance');

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  user: { id: string; email: string; name: string | null };
}

export interface RunningInstance {
  url: string;
  issuer: string;
  audience: string;
  jwksUrl: string;
  adminKey: string;
  /** Creates a verified user with a password and signs it in. */
  signUp(email?: string): Promise<TokenResponse & { email: string; password: string }>;
  /** Registers an OAuth application (`POST /v1/admin/applications`); a `web` one's secret is in the answer. */
  createApplication(body: {
    name: string;
    kind: 'web' | 'spa' | 'native';
    redirect_uris: string[];
    post_logout_redirect_uris?: string[];
    backchannel_logout_uri?: string;
  }): Promise<{ id: string; client_secret?: string }>;
  /** A user with a verified address and a password, created with the admin API. */
  verifiedUser(): Promise<{ id: string; email: string; password: string }>;
  /** POST with JSON (and a bearer token), expecting 2xx; returns the parsed body. */
  post<T = unknown>(path: string, body?: unknown, bearer?: string): Promise<T>;
  stop(): Promise<void>;
}

export async function startInstance(): Promise<RunningInstance> {
  if (!existsSync(INSTANCE_BIN)) {
    throw new Error(`${INSTANCE_BIN} is missing: run \`cargo build -p authstack-instance\` (or set AUTHSTACK_INSTANCE_BIN)`);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'authstack-node-sdk-'));
  const config = path.join(dataDir, 'instance.yaml');
  await writeFile(
    config,
    [
      'auth: { require_email_verification: false }',
      'organizations:',
      '  permissions: [projects:create, projects:delete]',
      '  role_grants: { admin: [projects:create] }',
      'rate_limits:',
      '  signups_per_ip: { max: 1000, window_secs: 3600 }',
      '',
    ].join('\n'),
  );
  const adminKey = `ask_admin_${randomBytes(32).toString('base64url')}`;
  const audience = 'ins_sdk_node_test';
  const child: ChildProcess = spawn(
    INSTANCE_BIN,
    // Everything here is on loopback, the BFF's back-channel logout URI too: allowed as in `authstack dev`.
    ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--config', config, '--issuer', url, '--audience', audience, '--allow-private-webhooks'],
    { env: { ...process.env, AUTHSTACK_ADMIN_KEY: adminKey, AUTHSTACK_LOG: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`authstack-instance exited (${child.exitCode}): ${stderr}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`authstack-instance did not become ready in 30 s: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  const post = async <T>(p: string, body?: unknown, bearer?: string): Promise<T> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(url + p, { method: 'POST', headers, body: JSON.stringify(body ?? {}) });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${p}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  let users = 0;
  return {
    createApplication: (body) => post('/v1/admin/applications', body, adminKey),
    async verifiedUser() {
      const email = `redirect${++users}-${randomBytes(4).toString('hex')}@example.com`;
      const password = `pw-${randomBytes(12).toString('base64url')}`;
      const created = await post<{ id: string }>('/v1/admin/users', { email, password, email_verified: true, name: 'Redirect User' }, adminKey);
      return { id: created.id, email, password };
    },
    url,
    issuer: url,
    audience,
    jwksUrl: `${url}/.well-known/jwks.json`,
    adminKey,
    post,
    async signUp(email = `user${++users}-${randomBytes(4).toString('hex')}@example.com`) {
      const password = `pw-${randomBytes(12).toString('base64url')}`;
      const tokens = await post<TokenResponse>('/v1/auth/signup', { email, password, name: 'Test User' });
      return { ...tokens, email, password };
    },
    stop,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The `name=value` part of the Set-Cookie named `name`, or undefined. */
export function setCookiePair(response: Response, name: string): string | undefined {
  return response.headers
    .getSetCookie()
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0];
}

/**
 * What a browser does between an authorization URL and the callback, with plain fetch: follows
 * the redirect to the hosted sign-in page, reads its hidden fields and flow cookie, posts the
 * password form. Returns the callback URL the instance redirects to.
 */
export async function browserSignIn(authorizationUrl: string, email: string, password: string): Promise<URL> {
  const start = await fetch(authorizationUrl, { redirect: 'manual' });
  if (start.status !== 303) throw new Error(`authorize answered ${start.status}: ${await start.text()}`);
  const loginUrl = new URL(start.headers.get('location')!);
  const page = await fetch(loginUrl, { redirect: 'manual' });
  const html = await page.text();
  const field = (name: string) => {
    const match = html.match(new RegExp(`name="${name}" value="([^"]*)"`));
    if (!match) throw new Error(`no ${name} field on the sign-in page`);
    return match[1]!;
  };
  const flowCookie = page.headers.getSetCookie().find((c) => c.split('=')[0]!.endsWith('authstack_flow'));
  const submitted = await fetch(new URL('login', loginUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: flowCookie?.split(';')[0] ?? '' },
    body: new URLSearchParams({ flow: field('flow'), csrf: field('csrf'), method: 'password', email, password }),
  });
  if (submitted.status !== 303) throw new Error(`the sign-in form answered ${submitted.status}: ${await submitted.text()}`);
  browserSignIn.sso = setCookiePair(submitted, 'authstack_session');
  return new URL(submitted.headers.get('location')!);
}
/** The instance's SSO cookie (`name=value`) set by the last `browserSignIn`. */
browserSignIn.sso = undefined as string | undefined;
