// Audit events in words: who acted, and a one-line summary of the event's detail.
import { plural } from '../../ui/plural';

/** `user:usr_…` as the member's email when known; the other actors by name. */
export function actorWords(actor: string, members?: ReadonlyMap<string, string>): { text: string; title?: string } {
  if (actor.startsWith('user:')) {
    const userId = actor.slice('user:'.length);
    const email = members?.get(userId);
    return email ? { text: email, title: actor } : { text: userId, title: 'A user who is not a member of this account now' };
  }
  switch (actor) {
    case 'stripe':
      return { text: 'Stripe', title: 'Billing events from Stripe' };
    case 'system':
      return { text: 'AuthStack (automatic)', title: 'The control plane itself' };
    case 'operator':
      return { text: 'AuthStack operator', title: 'A platform operator' };
    default:
      return { text: actor };
  }
}

/** What the dashboard already knows by id: keys by name, instances by environment, members by email. */
export interface KnownNames {
  keys?: ReadonlyMap<string, string>;
  instances?: ReadonlyMap<string, 'live' | 'test'>;
  members?: ReadonlyMap<string, string>;
}

/** An event's target by name when known (`key_…`, `ins_…`, `usr_…`); `null` when only the id is known. */
export function targetName(target: string, known: KnownNames): string | null {
  const key = known.keys?.get(target);
  if (key !== undefined) return `Key “${key}”`;
  const environment = known.instances?.get(target);
  if (environment) return environment === 'live' ? 'Live instance' : 'Test instance';
  const email = known.members?.get(target);
  if (email) return email;
  return null;
}

/** `ada@example.com`, `usr_…` or an exact actor → the API's actor filter; an error for an unknown email. */
export function actorFilter(raw: string, members?: ReadonlyMap<string, string>): { actor?: string; error?: string } {
  const value = raw.trim();
  if (!value) return {};
  if (value.includes('@')) {
    const wanted = value.toLowerCase();
    const found = [...(members ?? new Map<string, string>())].find(([, email]) => email.toLowerCase() === wanted);
    if (!found) return { error: `No member of this account has the email ${value}. Type a teammate's email, or user:usr_… for someone who left.` };
    return { actor: `user:${found[0]}` };
  }
  if (value.startsWith('usr_')) return { actor: `user:${value}` };
  return { actor: value };
}

const MAX = 160;

function short(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return 'none';
    const shown = value.slice(0, 3).map(short).join(', ');
    return value.length > 3 ? `${shown} and ${value.length - 3} more` : shown;
  }
  const keys = Object.keys(value as object);
  return keys.length === 0 ? '—' : plural(keys.length, 'field');
}

/** `{"revision": 3, "source": "dashboard"}` → "revision 3 · source dashboard". */
export function summarize(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  let text: string;
  if (typeof detail !== 'object' || Array.isArray(detail)) {
    text = short(detail);
  } else {
    text = Object.entries(detail as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => `${k.replace(/_/g, ' ')} ${short(v)}`)
      .join(' · ');
  }
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}
