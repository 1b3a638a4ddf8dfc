// Daily active users over the last 30 days: a hand-drawn SVG bar chart, summarised for screen
// readers, with the numbers as a table under it.
import { useId } from 'react';
import { plural } from '../../ui/plural';

const W = 600;
const H = 180;
const PAD = { top: 12, right: 8, bottom: 24, left: 40 };

/** `2026-11-24` as "Nov 24" (the date is a UTC day). */
export function day(date: string, style: 'short' | 'long' = 'short'): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  return d.toLocaleDateString(undefined, {
    timeZone: 'UTC',
    month: 'short',
    day: 'numeric',
    ...(style === 'long' ? { weekday: 'short', year: 'numeric' } : {}),
  });
}

/** A round top for the axis: 1, 2, 5, 10, 20, 50, … */
function niceMax(max: number): number {
  if (max <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

export function DailyActiveUsers({ days }: { days: { date: string; users: number }[] }) {
  const id = useId();
  const count = (n: number) => n.toLocaleString();
  if (days.length === 0) {
    return (
      <div className="card">
        <h2>Daily active users</h2>
        <p className="hint">No days measured yet.</p>
      </div>
    );
  }
  const peak = days.reduce((a, b) => (b.users > a.users ? b : a), days[0]!);
  const top = niceMax(peak.users);
  const total = days.reduce((sum, d) => sum + d.users, 0);
  const average = total / days.length;
  const last = days[days.length - 1]!;
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / days.length;
  const barW = Math.max(1, slot * 0.7);
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const ticks = [0, top / 2, top].filter((t, i, all) => all.indexOf(t) === i && Number.isInteger(t));
  const labelled = new Set([0, Math.floor((days.length - 1) / 2), days.length - 1]);
  const summary =
    `${plural(days.length, 'day')} from ${day(days[0]!.date)} to ${day(last.date)}. ` +
    (peak.users === 0
      ? 'No user was active on any of them.'
      : `Highest ${count(peak.users)} on ${day(peak.date)}; average ${average.toLocaleString(undefined, { maximumFractionDigits: 1 })} a day; ` +
        `${count(last.users)} on the last day.`);

  return (
    <div className="card" role="region" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Daily active users</h2>
      <p className="hint" id={`${id}-desc`}>
        {summary}
      </p>
      <svg
        className="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby={`${id}-title`}
        aria-describedby={`${id}-desc`}
        data-testid="dau-chart"
      >
        {ticks.map((t) => (
          <g key={t} className="chart-grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} />
            <text x={PAD.left - 6} y={y(t)} textAnchor="end" dominantBaseline="middle">
              {count(t)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const h = (d.users / top) * innerH;
          const x = PAD.left + i * slot + (slot - barW) / 2;
          return (
            <g key={d.date}>
              <rect className="chart-bar" x={x} y={y(d.users)} width={barW} height={Math.max(0, h)} rx={1.5}>
                <title>{`${day(d.date)}: ${count(d.users)}`}</title>
              </rect>
              {labelled.has(i) && (
                <text className="chart-label" x={x + barW / 2} y={H - 6} textAnchor={i === 0 ? 'start' : i === days.length - 1 ? 'end' : 'middle'}>
                  {day(d.date)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <details>
        <summary>Show the numbers as a table</summary>
        <div className="table-scroll">
          <table>
            <caption className="visually-hidden">Daily active users by day</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                <th scope="col" className="num">
                  Active users
                </th>
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">
                    <time dateTime={d.date}>{day(d.date, 'long')}</time>
                  </th>
                  <td className="num">{count(d.users)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}
