// Reading the Cookie header and appending Set-Cookie, without a cookie library.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CookieOptions {
  /** Default true; set false only for http://localhost development. */
  secure: boolean;
  sameSite: 'Lax' | 'Strict';
  path: string;
  domain?: string | undefined;
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Appends a Set-Cookie for an HttpOnly cookie; `maxAgeSec` 0 deletes it. */
export function setCookie(
  res: ServerResponse,
  name: string,
  value: string,
  options: CookieOptions,
  maxAgeSec: number,
): void {
  const attributes = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path}`,
    'HttpOnly',
    `SameSite=${options.sameSite}`,
    `Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`,
  ];
  if (options.secure) attributes.push('Secure');
  if (options.domain) attributes.push(`Domain=${options.domain}`);
  const existing = res.getHeader('set-cookie');
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
  res.setHeader('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), attributes.join('; ')]);
}
