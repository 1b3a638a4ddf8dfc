import { PermissionGate, useAuthStackClient, useTenant } from '@authstack/react';
import { useEffect, useState } from 'react';

interface Entry {
  id: string;
  action: string;
  actor_id?: string | null;
  occurred_at: string;
}

/** The organization's audit log: read from the API with the session's token. */
function AuditLog({ organizationId }: { organizationId: string }) {
  const client = useAuthStackClient();
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.organizations.auditLogs(organizationId, { limit: 20 }).then(
      (page) => live && setEntries(page.data as Entry[]),
      (e: unknown) => live && setError(String((e as Error).message ?? e)),
    );
    return () => {
      live = false;
    };
  }, [client, organizationId]);
  if (error) return <p role="alert">{error}</p>;
  if (!entries) return <p aria-busy="true">Loading…</p>;
  return (
    <table className="audit">
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">What</th>
          <th scope="col">Who</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e) => (
          <tr key={e.id}>
            <td>{e.occurred_at}</td>
            <td>
              <code>{e.action}</code>
            </td>
            <td>{e.actor_id ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The page behind `<PermissionGate permission="audit:read">`. */
export function AuditPage() {
  const { organizationId, organization } = useTenant();
  return (
    <>
      <h1>Audit log</h1>
      <PermissionGate
        permission="audit:read"
        fallback={<p data-testid="gated">You need the audit:read permission to see this page.</p>}
      >
        <p>Everything that happened in {organization?.name}.</p>
        {organizationId ? <AuditLog organizationId={organizationId} /> : null}
      </PermissionGate>
    </>
  );
}
