// A fake fetch for the control-plane API: routes by `METHOD /path` to handlers, records calls.
import { render, type RenderResult } from '@testing-library/react';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { DashboardProvider, type AccountRef, type Reauthentication } from '../src/account/context';
import { createControlPlane } from '../src/api/controlPlane';
import type { Revision } from '../src/api/types';

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  raw: string | undefined;
}

type Answer = Response | unknown;
type Handler = (call: Call) => Answer | Promise<Answer>;

export function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

/** A file answer, as `GET …?format=csv` sends it. */
export function file(body: string, contentType: string, filename: string): Response {
  return new Response(body, {
    status: 200,
    headers: { 'content-type': contentType, 'content-disposition': `attachment; filename="${filename}"` },
  });
}

export interface SavedFile {
  name: string;
  blob: Blob;
}

/**
 * jsdom has no blob URLs and does not download: records what a page saves through a blob URL
 * and a clicked `<a download>` instead. Undo with the returned `restore()`.
 */
export function captureDownloads(): { saved: SavedFile[]; restore: () => void } {
  const saved: SavedFile[] = [];
  const blobs = new Map<string, Blob>();
  const original = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
  URL.createObjectURL = (blob: Blob) => {
    const url = `blob:http://control-plane.test/${blobs.size + 1}`;
    blobs.set(url, blob);
    return url;
  };
  URL.revokeObjectURL = (url: string) => void blobs.delete(url);
  const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
    const blob = blobs.get(this.href);
    if (blob && this.download) saved.push({ name: this.download, blob });
  });
  return {
    saved,
    restore: () => {
      URL.createObjectURL = original.create;
      URL.revokeObjectURL = original.revoke;
      click.mockRestore();
    },
  };
}

export class FakeControlPlane {
  readonly calls: Call[] = [];
  private readonly routes: { method: string; pattern: RegExp; handler: Handler }[] = [];

  /** `on('GET', '/v1/plans', () => ({ data: [] }))`; a string pattern matches exactly. Later routes win. */
  on(method: string, path: string | RegExp, handler: Handler): this {
    const pattern = typeof path === 'string' ? new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : path;
    this.routes.unshift({ method, pattern, handler });
    return this;
  }

  callsTo(method: string, path: string | RegExp): Call[] {
    return this.calls.filter((c) => c.method === method && (typeof path === 'string' ? c.path === path : path.test(c.path)));
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://control-plane.test');
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
    const raw = typeof init.body === 'string' ? init.body : undefined;
    let body: unknown;
    if (raw !== undefined && headers['content-type'] === 'application/json') body = JSON.parse(raw);
    const call: Call = { method, path: url.pathname, query: url.searchParams, headers, body, raw };
    this.calls.push(call);
    const route = this.routes.find((r) => r.method === method && r.pattern.test(url.pathname));
    if (!route) return json(404, { error: 'not_found', message: `no fake route for ${method} ${url.pathname}` });
    const answer = await route.handler(call);
    return answer instanceof Response ? answer : json(200, answer);
  };
}

export const ACCOUNT: AccountRef = { id: 'acc_1', name: 'Acme' };
export const PLATFORM = { gateway_url: 'http://127.0.0.1:7401', publishable_key: 'ask_live_platform' };

/**
 * Renders a page inside the account `acc_1` with the fake control plane; `reauthentication`
 * stands in for signing in again (the Shell's, over the platform instance).
 */
export function renderPage(
  ui: ReactElement,
  cp: FakeControlPlane,
  account: AccountRef | null = ACCOUNT,
  { reauthentication = null }: { reauthentication?: Reauthentication | null } = {},
): RenderResult {
  const api = createControlPlane({ getToken: async () => 'token-1', fetch: cp.fetch });
  if (account) window.localStorage.setItem('authstack.dashboard.accounts', JSON.stringify({ org_1: account }));
  return render(
    <DashboardProvider api={api} platform={PLATFORM} organizationId="org_1" reauthentication={reauthentication}>
      {ui}
    </DashboardProvider>,
  );
}

/** A deployed revision of the live instance; `extra` overrides (which one runs, its outcome). */
export function revision(number: number, extra: Partial<Revision> = {}): Revision {
  return {
    number,
    summary: `change ${number}`,
    source: 'dashboard',
    author: 'usr_1',
    created_at: '2026-11-24T10:00:00Z',
    outcome: 'deployed',
    outcome_detail: null,
    deployed_at: '2026-11-24T10:00:05Z',
    current: false,
    last_healthy: false,
    ...extra,
  };
}
