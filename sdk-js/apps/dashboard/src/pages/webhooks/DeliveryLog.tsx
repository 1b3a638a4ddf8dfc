// An endpoint's delivery log (status, attempts, the answer, latency, the answer's first bytes),
// with replay for members who manage keys: an instance's endpoints and the account's alike.
import type { WebhookDelivery, WebhookDeliveryList } from '../../api/types';
import { ColumnHeads } from '../../ui/ColumnHeads';
import { ErrorNotice, formatTime, Loading, useLoad } from '../../ui/feedback';

/** An endpoint's delivery log with replay; the parent keys it by endpoint (it loads once). */
export function DeliveryLog({
  url,
  load,
  canManage,
  onReplay,
}: {
  url: string | undefined;
  load: () => Promise<WebhookDeliveryList>;
  canManage: boolean;
  onReplay: (d: WebhookDelivery) => Promise<void>;
}) {
  const log = useLoad(load, []);
  if (!url) return null;
  return (
    <div className="card" role="region" aria-label={`Deliveries to ${url}`}>
      <h2>Deliveries to {url}</h2>
      <button type="button" className="button-secondary" onClick={() => void log.reload()}>
        Refresh
      </button>
      {log.isLoading && !log.data ? (
        <Loading label="Loading deliveries…" />
      ) : !log.data ? (
        <ErrorNotice error={log.error} onRetry={log.reload} />
      ) : log.data.data.length === 0 ? (
        <p>No deliveries yet.</p>
      ) : (
        <div className="table-scroll">
          <table>
            <ColumnHeads columns={['Event', 'Status', 'Attempts', 'Answer', 'Latency', 'Response', 'Last attempt']} actions={canManage} />
            <tbody>
              {log.data.data.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    {d.event_type} <code className="hint">{d.event_id}</code>
                  </th>
                  <td>
                    {d.status}
                    {d.next_attempt_at && <span className="hint"> · next attempt {formatTime(d.next_attempt_at)}</span>}
                  </td>
                  <td>{d.attempts}</td>
                  <td>{d.last_status != null ? `HTTP ${d.last_status}` : (d.last_error ?? '—')}</td>
                  <td>{d.latency_ms != null ? `${d.latency_ms} ms` : '—'}</td>
                  <td>{d.response_excerpt ? <code>{d.response_excerpt}</code> : '—'}</td>
                  <td>{formatTime(d.last_attempt_at)}</td>
                  {canManage && (
                    <td>
                      <button type="button" className="button-secondary" aria-label={`Replay ${d.event_id}`} onClick={() => void onReplay(d).then(log.reload)}>
                        Replay
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
