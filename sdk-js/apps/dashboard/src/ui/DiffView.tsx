// A configuration change side by side: field, before, after; then security notes and errors.
import type { Diff, FieldError } from '../api/types';

function value(v: unknown): string {
  if (v === undefined || v === null) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function DiffView({
  diff,
  fromLabel,
  toLabel,
  securityNotes = [],
  errors = [],
  caption,
}: {
  diff: Diff;
  fromLabel: string;
  toLabel: string;
  securityNotes?: string[];
  errors?: FieldError[];
  caption: string;
}) {
  return (
    <div className="diff">
      {diff.changes.length === 0 ? (
        <p>No differences: both configurations are the same.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <caption>{caption}</caption>
            <thead>
              <tr>
                <th scope="col">Setting</th>
                <th scope="col">{fromLabel}</th>
                <th scope="col">{toLabel}</th>
              </tr>
            </thead>
            <tbody>
              {diff.changes.map((c) => (
                <tr key={c.path}>
                  <th scope="row">
                    <code>{c.path}</code>
                  </th>
                  <td className={c.kind === 'added' ? undefined : 'diff-removed'}>
                    <code>{c.kind === 'added' ? '—' : value(c.from)}</code>
                  </td>
                  <td className={c.kind === 'removed' ? undefined : 'diff-added'}>
                    <code>{c.kind === 'removed' ? '—' : value(c.to)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {securityNotes.length > 0 && (
        <div className="notice" role="note" aria-label="Security notes">
          <strong>Security notes</strong>
          <ul>
            {securityNotes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </div>
      )}
      {errors.length > 0 && (
        <div className="notice notice-error" role="alert">
          <strong>This configuration is not valid:</strong>
          <ul>
            {errors.map((e) => (
              <li key={`${e.path}:${e.message}`}>
                <code>{e.path}</code>: {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
