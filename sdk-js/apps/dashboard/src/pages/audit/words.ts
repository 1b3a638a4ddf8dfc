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
