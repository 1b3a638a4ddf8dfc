// The server's rules for the settings this page edits, checked before anything is sent:
// instance/src/config.rs (`check_origin`, `check_url`, `is_hex_color`) and
// instance/src/rbac/mod.rs (`parse_permission`, the built-in catalogue and roles).
import { BUILTIN_PERMISSIONS, BUILTIN_ROLE_DEFINITIONS } from '@authstack/client';
import type { BuiltinRole, FieldError } from '../../api/types';

/** The permissions every instance has (generated from the instance, with the client SDK). */
export { BUILTIN_PERMISSIONS };

/** The built-in roles a grant can extend (owners hold everything), with their names. */
export const ROLES: { key: BuiltinRole; name: string }[] = (['admin', 'member', 'viewer'] as const).map((key) => ({
  key,
  name: BUILTIN_ROLE_DEFINITIONS[key].name,
}));

/** What the built-in roles hold without any grant (generated from the instance's `BUILTIN_ROLES`). */
export const ROLE_DEFAULTS: Record<BuiltinRole, readonly string[]> = {
  admin: BUILTIN_ROLE_DEFINITIONS.admin.permissions,
  member: BUILTIN_ROLE_DEFINITIONS.member.permissions,
  viewer: BUILTIN_ROLE_DEFINITIONS.viewer.permissions,
};

export const DEFAULT_COLOR = '#4f46e5';

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

function hostOf(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon < 0) return authority;
  const port = authority.slice(colon + 1);
  // `[::1]` has colons of its own; only a numeric tail is a port.
  return /^\d*$/.test(port) ? authority.slice(0, colon) : authority;
}

/** `https://host[:port]` (http only for localhost), lower-cased, without a trailing slash. */
export function normalizeOrigin(raw: string): string {
  const t = raw.trim().replace(/\/$/, '');
  const at = t.indexOf('://');
  return at < 0 ? t : t.slice(0, at).toLowerCase() + '://' + t.slice(at + 3).toLowerCase();
}

export function checkOrigin(origin: string): string | null {
  const at = origin.indexOf('://');
  if (at < 0) return 'Must be an origin like https://app.example.com.';
  const scheme = origin.slice(0, at);
  const rest = origin.slice(at + 3);
  if (!rest || /[/?#]/.test(rest)) return 'Must be an origin like https://app.example.com (no path).';
  if (!/^[a-z0-9.\-:[\]]+$/i.test(rest) || rest.length > 253) return 'An origin has no path, query or credentials.';
  if (scheme === 'https') return null;
  if (scheme === 'http' && LOOPBACK.includes(hostOf(rest))) return null;
  return 'Must use https (http only for localhost).';
}

/** An absolute https URL (http for localhost); `exact` (redirect URIs) also refuses fragments and wildcards. */
export function checkUrl(url: string, exact: boolean): string | null {
  const at = url.indexOf('://');
  if (at < 0) return 'Must be an absolute URL like https://app.example.com/callback.';
  const scheme = url.slice(0, at);
  const authority = url.slice(at + 3).split(/[/?#]/)[0] ?? '';
  if (!authority) return 'Must name a host.';
  if (exact && /[#*]/.test(url)) return 'Must not contain a fragment or a wildcard (matched exactly).';
  if (/\s/.test(url)) return 'Must not contain spaces.';
  if (scheme === 'https') return null;
  if (scheme === 'http' && LOOPBACK.includes(hostOf(authority))) return null;
  return 'Must use https (http only for localhost).';
}

export function isHexColor(value: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(value);
}

/** WCAG 2 relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** The WCAG contrast ratio of white text on `#rrggbb` (1 to 21). */
export function contrastWithWhite(hex: string): number {
  return 1.05 / (luminance(hex) + 0.05);
}

/** WCAG AA for normal text. */
export const AA_CONTRAST = 4.5;

/** `4.46:1`: cut, not rounded, so that a failing ratio never reads as 4.5. */
export function formatRatio(ratio: number): string {
  return `${(Math.floor(ratio * 100) / 100).toFixed(2)}:1`;
}

/** Where an instance's mail links point: empty (cleared) or an absolute http(s) URL. */
export function checkLinkBase(value: string): string | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'Must be an absolute URL like https://app.example.com.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Must be an http or https URL.';
  if (!url.hostname) return 'Must name a host.';
  if (/\s/.test(value)) return 'Must not contain spaces.';
  return null;
}

const PART = /^[a-z][a-z0-9_-]{0,63}$/;

/** `resource:action`: lowercase letters, digits, `_` and `-`, each part starting with a letter. */
export function checkPermission(permission: string): string | null {
  const colon = permission.indexOf(':');
  const resource = permission.slice(0, colon);
  const action = permission.slice(colon + 1);
  if (colon < 0 || !PART.test(resource) || !PART.test(action)) {
    return `“${permission}” is not a permission of the form resource:action (lowercase), e.g. projects:create.`;
  }
  if ((BUILTIN_PERMISSIONS as readonly string[]).includes(permission)) return `“${permission}” is built in already.`;
  return null;
}

/** A list entry's problem: the rule's, or a duplicate. */
export function checkEntry(value: string, list: string[], rule: (v: string) => string | null): string | null {
  if (!value) return 'Enter a value first.';
  if (list.includes(value)) return `“${value}” is in the list already.`;
  return rule(value);
}

/** Server field errors, sorted to the fields they are about. */
export interface FieldErrors {
  origins: Record<number, string>;
  redirects: Record<number, string>;
  color?: string;
  logo?: string;
  appearance?: string;
  linkBase?: string;
  permissions: Record<number, string>;
  grants?: string;
  /** About the list as a whole, or a field this page does not show. */
  other: FieldError[];
}

export function emptyErrors(): FieldErrors {
  return { origins: {}, redirects: {}, permissions: {}, other: [] };
}

function capital(text: string): string {
  const t = text.trim();
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** Sorts `errors` (`{path, message}` of `invalid_config`, or `allowed_origins[i]: …` messages) by field. */
export function sortErrors(errors: FieldError[]): FieldErrors {
  const sorted = emptyErrors();
  for (const e of errors) {
    // The permission catalogue reports under `organizations.permissions` with the exact field in the message.
    const inner = /^(organizations\.(?:permissions|role_grants\.\w+)(?:\[\d+\])?|allowed_origins\[\d+\]):\s*(.*)$/s.exec(e.message);
    const path = inner?.[1] ?? e.path;
    const message = capital(inner?.[2] ?? e.message);
    let m: RegExpExecArray | null;
    if ((m = /^(?:security\.)?allowed_origins\[(\d+)\]$/.exec(path))) sorted.origins[Number(m[1])] = message;
    else if ((m = /^security\.redirect_uris\[(\d+)\]$/.exec(path))) sorted.redirects[Number(m[1])] = message;
    else if (path === 'branding.primary_color') sorted.color = message;
    else if (path === 'branding.logo_url') sorted.logo = message;
    else if (path === 'branding.appearance') sorted.appearance = message;
    else if (path === 'mail.link_base_url') sorted.linkBase = message;
    else if ((m = /^organizations\.permissions\[(\d+)\]$/.exec(path))) sorted.permissions[Number(m[1])] = message;
    else if (path.startsWith('organizations.role_grants')) sorted.grants = message;
    else sorted.other.push({ path: e.path, message: inner ? `${path}: ${message}` : e.message });
  }
  return sorted;
}
