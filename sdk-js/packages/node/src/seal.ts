// Sealed cookie values: AES-256-GCM under a 32-byte secret, bound to the cookie's name.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte key from a Buffer, or a base64, base64url or 64-digit hex string. */
export function sealingKey(secret: string | Uint8Array): Buffer {
  let key: Buffer;
  if (typeof secret !== 'string') key = Buffer.from(secret);
  else if (/^[0-9a-f]{64}$/i.test(secret)) key = Buffer.from(secret, 'hex');
  else key = Buffer.from(secret, 'base64url');
  if (key.length !== 32) {
    throw new TypeError(
      'the sealing secret must be 32 bytes (e.g. `openssl rand -base64 32`), as base64, base64url, hex or bytes',
    );
  }
  return key;
}

/** Encrypts and authenticates `value`; `context` (the cookie name) must match to open it. */
export function seal(key: Buffer, context: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The sealed value, or null when it was not sealed by this key for this context (or was altered). */
export function unseal<T>(key: Buffer, context: string, sealed: string): T | null {
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const body = Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    // A wrong key, context or tag: not ours. The caller treats it as no cookie at all.
    return null;
  }
}
