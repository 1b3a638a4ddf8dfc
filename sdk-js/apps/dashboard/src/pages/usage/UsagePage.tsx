// Usage of an instance against its plan's limits, per environment: monthly active users,
// organizations, members per organization, and daily active users over 30 days.
import { useId, useState } from 'react';
import { useAccount } from '../../account/context';
import { ControlPlaneError } from '../../api/controlPlane';
import type { Environment, Meter, Usage } from '../../api/types';
import { Link } from '../../shell/router';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { EmptyState, ErrorNotice, formatTime, Loading, useLoad } from '../../ui/feedback';
import { DailyActiveUsers } from './DailyActiveUsers';
import { plural } from '../../ui/plural';

/** From this share of a limit on, a meter warns. */
export const WARN_AT = 0.8;

const number = (n: number) => n.toLocaleString();

/** `used` of `limit` as a share (0…1+), or null when unlimited. */
function share(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  if (limit <= 0) return used > 0 ? 1 : 0;
  return used / limit;
}

function percent(s: number): string {
  const p = s * 100;
  return `${p > 0 && p < 1 ? '<1' : Math.round(p)}%`;
}

function level(s: number | null): 'ok' | 'warn' | 'full' {
  if (s === null || s < WARN_AT) return 'ok';
  return s >= 1 ? 'full' : 'warn';
}

export function UsagePage() {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('live');
  const usage = useLoad(() => api.instances.usage(account.id, env), [api, account.id, env]);

  return (
    <section aria-labelledby="usage-title" className="page">
      <h1 id="usage-title">Usage</h1>
      <p>How much of your plan each instance uses. Limits apply per instance; the test instance has its own.</p>
      <EnvironmentPicker value={env} onChange={setEnv} />
      {usage.isLoading && !usage.data ? (
        <Loading label="Loading usage…" />
      ) : !usage.data ? (
        <UsageError env={env} error={usage.error} onRetry={usage.reload} />
      ) : (
        <>
          {usage.error !== null && <UsageError env={env} error={usage.error} onRetry={usage.reload} />}
          <UsageView usage={usage.data} />
        </>
      )}
    </section>
  );
}

function UsageError({ env, error, onRetry }: { env: Environment; error: unknown; onRetry: () => void }) {
  if (error instanceof ControlPlaneError && error.code === 'not_found') {
    return (
      <EmptyState title={`No ${env} instance yet`}>
        <p>
          Usage is measured once you have instances. <Link to="/plans">Choose a plan</Link> to get a live and a test instance.
        </p>
      </EmptyState>
    );
  }
  if (error instanceof ControlPlaneError && (error.code === 'instance_not_running' || error.code === 'instance_unavailable')) {
    return (
      <div className="notice notice-error" role="alert">
        <p>
          The {env} instance is not running right now, so its usage cannot be measured. See its state on the{' '}
          <Link to="/instances">Instances</Link> page; AuthStack retries on its own.
        </p>
        <button type="button" className="button-secondary" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  return <ErrorNotice error={error} onRetry={onRetry} />;
}

function UsageView({ usage }: { usage: Usage }) {
  const members = usage.members_per_organization;
  return (
    <>
      <p className="hint">
        Plan <strong>{usage.plan}</strong>
        , {plural(usage.users, 'user')} in all, measured {formatTime(usage.measured_at)}.
      </p>
      <div className="cards">
        <MeterCard title="Monthly active users" meter={usage.monthly_active_users} hint="Users who signed in or refreshed a session in the last 30 days (UTC days, today included)." />
        <MeterCard title="Organizations" meter={usage.organizations} hint="Organizations in this instance." />
      </div>
      <DailyActiveUsers days={usage.daily_active_users} />
      <MembersTable limit={members.limit} data={members.data} />
    </>
  );
}

function MeterCard({ title, meter, hint }: { title: string; meter: Meter; hint: string }) {
  const id = useId();
  const s = share(meter.used, meter.limit);
  const words =
    meter.limit === null ? `${number(meter.used)} used, unlimited` : `${number(meter.used)} of ${number(meter.limit)} used (${percent(s ?? 0)})`;
  return (
    <article className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p className="meter-figures">
        <strong>{number(meter.used)}</strong> {meter.limit === null ? <span className="badge">Unlimited</span> : <>of {number(meter.limit)}</>}
      </p>
      {meter.limit !== null && (
        <Bar label={title} used={meter.used} limit={meter.limit} words={words} />
      )}
      <p className="hint">{hint}</p>
      {level(s) === 'full' && <p className="meter-note meter-note-full">Limit reached: new ones are refused. A larger plan has more.</p>}
      {level(s) === 'warn' && <p className="meter-note">Close to the limit ({percent(s ?? 0)}).</p>}
    </article>
  );
}

/** A horizontal meter: `role="meter"` with its value in words. */
function Bar({ label, used, limit, words }: { label: string; used: number; limit: number; words: string }) {
  const s = share(used, limit) ?? 0;
  return (
    <div
      className={`meter meter-${level(s)}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={limit}
      aria-valuenow={Math.min(used, limit)}
      aria-valuetext={words}
    >
      <div className="meter-fill" style={{ width: `${Math.min(100, s * 100)}%` }} />
    </div>
  );
}

function MembersTable({ limit, data }: { limit: number | null; data: Usage['members_per_organization']['data'] }) {
  const id = useId();
  return (
    <div className="card" role="region" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Members per organization</h2>
      <p className="hint">
        {limit === null
          ? 'Your plan does not limit the members of an organization.'
          : `Each organization may have ${plural(limit, 'member')}, pending invitations included. The largest organizations first.`}
      </p>
      {data.length === 0 ? (
        <EmptyState title="No organizations yet">
          <p>Organizations appear here once your users create them.</p>
        </EmptyState>
      ) : (
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Members of each organization against the limit</caption>
            <thead>
              <tr>
                <th scope="col">Organization</th>
                <th scope="col" className="num">
                  Members
                </th>
                <th scope="col" className="num">
                  Pending invitations
                </th>
                <th scope="col">Of the limit</th>
              </tr>
            </thead>
            <tbody>
              {data.map((o) => {
                const total = o.members + o.pending_invitations;
                const s = share(total, limit);
                return (
                  <tr key={o.organization_id}>
                    <th scope="row">
                      {o.name || <code>{o.organization_id}</code>}
                      {o.name && (
                        <>
                          {' '}
                          <code className="hint">{o.organization_id}</code>
                        </>
                      )}
                    </th>
                    <td className="num">{number(o.members)}</td>
                    <td className="num">{number(o.pending_invitations)}</td>
                    <td>
                      {limit === null || s === null ? (
                        'Unlimited'
                      ) : (
                        <div className="meter-row">
                          <Bar label={`${o.name || o.organization_id} members`} used={total} limit={limit} words={`${number(total)} of ${number(limit)} (${percent(s)})`} />
                          <span className={`meter-text meter-text-${level(s)}`}>
                            {number(total)} / {number(limit)} ({percent(s)})
                          </span>
                        </div>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
