// Says plainly which of a form's settings the instance records but does not act on yet.
import { inactiveSetting } from '../../api/capabilities';
import type { Capabilities } from '../../api/types';

/**
 * A visible note on a card whose fields the instance records but does not act on yet (per
 * `GET /v1/capabilities`): one line per capability entry that covers any of `paths`.
 */
export function RecordedOnly({ capabilities, paths }: { capabilities: Capabilities | null; paths: string[] }) {
  const entries = paths
    .map((path) => inactiveSetting(capabilities, path))
    .filter((e, i, all): e is NonNullable<typeof e> => e !== null && all.findIndex((o) => o?.path === e.path) === i);
  if (entries.length === 0) return null;
  return (
    <div className="notice notice-warning recorded-only">
      {entries.map((e) => (
        <p key={e.path}>
          <strong>Recorded — this instance does not act on it yet.</strong> {e.label} (<code>{e.path}</code>) is kept in the
          revision, but changing it has no effect today.
        </p>
      ))}
    </div>
  );
}
