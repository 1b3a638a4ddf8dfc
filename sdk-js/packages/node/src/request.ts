// Small request helpers of the BFF: the body of a form or JSON request, a safe return path,
// a constant-time text comparison.
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';

export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A same-site path to return to after login; absolute and protocol-relative URLs are refused. */
export function safeReturn(target: string | undefined): string | undefined {
  return target && target.startsWith('/') && !target.startsWith('//') && !target.startsWith('/\\') ? target : undefined;
}

/** The request's form or JSON fields, from a body parser that ran or from the stream. */
export async function formOf(req: Request): Promise<Record<string, string>> {
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
