import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../api/types';
import { captureDownloads, FakeControlPlane, file, json, renderPage } from '../../../test/fake-control-plane';
import { AuditPage } from './AuditPage';
import { summarize } from './words';

const LOGS = '/v1/accounts/acc_1/audit-logs';

function event(id: string, action: string, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id,
    at: '2026-11-24T10:00:00Z',
    account_id: 'acc_1',
    actor: 'user:usr_ada',
    action,
    target: 'ins_live',
    detail: { revision: 3, source: 'dashboard', summary: 'branding.primary_color changed' },
    ...extra,
  };
}

const members = new Map([['usr_ada', 'ada@example.com']]);

function auditApi() {
  return new FakeControlPlane().on('GET', LOGS, (call) => {
    if (call.query.get('format')) return file('id,at,actor\n', 'text/csv', 'authstack-audit-acc_1.csv');
    if (call.query.get('cursor') === 'evt_2') {
      return { data: [event('evt_1', 'account.created', { actor: 'system', target: null, detail: {} })], next_cursor: null };
    }
    return {
      data: [
        event('evt_3', 'revision.created'),
        event('evt_2', 'instance.allowed_origins_changed', {
          actor: 'user:usr_gone',
          detail: { allowed_origins: ['https://a.example', 'https://b.example', 'https://c.example', 'https://d.example'] },
        }),
      ],
      next_cursor: 'evt_2',
    };
  });
}

let downloads: ReturnType<typeof captureDownloads> | null = null;
afterEach(() => {
  downloads?.restore();
  downloads = null;
});

describe('<AuditPage>', () => {
  it('lists events with the actor’s email and a readable summary, and loads more by cursor', async () => {
    const user = userEvent.setup();
    const cp = auditApi();
    renderPage(<AuditPage members={members} />, cp);
    const first = await screen.findByRole('row', { name: /revision\.created/ });
    expect(first).toHaveTextContent('ada@example.com');
    expect(first).toHaveTextContent('revision 3 · source dashboard · summary branding.primary_color changed');
    expect(within(first).getByText('All details').closest('details')).toHaveTextContent('"revision": 3');
    const origins = screen.getByRole('row', { name: /allowed_origins_changed/ });
    expect(origins).toHaveTextContent('usr_gone');
    expect(origins).toHaveTextContent('allowed origins https://a.example, https://b.example, https://c.example and 1 more');
    expect(cp.callsTo('GET', LOGS)[0]?.query.toString()).toBe('limit=50');

    await user.click(screen.getByRole('button', { name: 'Load more' }));
    const older = await screen.findByRole('row', { name: /account\.created/ });
    expect(older).toHaveTextContent('AuthStack (automatic)');
    expect(cp.callsTo('GET', LOGS)[1]?.query.get('cursor')).toBe('evt_2');
    expect(screen.getAllByRole('row')).toHaveLength(4);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    await waitFor(() => expect(screen.getByText('That is everything.')).toHaveFocus());
  });

  it('filters by action prefix, actor and days, and exports the same filters as a file with the token', async () => {
    const user = userEvent.setup();
    downloads = captureDownloads();
    const cp = auditApi();
    renderPage(<AuditPage members={members} />, cp);
    await screen.findByRole('row', { name: /revision\.created/ });
    await user.selectOptions(screen.getByLabelText('Action'), 'revision.');
    await user.type(screen.getByLabelText('Actor'), 'user:usr_ada');
    await user.type(screen.getByLabelText('From'), '2026-11-01');
    await user.type(screen.getByLabelText('To'), '2026-11-24');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    await waitFor(() => expect(cp.callsTo('GET', LOGS)).toHaveLength(2));
    const query = cp.callsTo('GET', LOGS)[1]!.query;
    expect(query.get('action')).toBe('revision.');
    expect(query.get('actor')).toBe('user:usr_ada');
    expect(query.get('since')).toBe(new Date(2026, 10, 1).toISOString());
    // Through the end of the 24th.
    expect(query.get('until')).toBe(new Date(2026, 10, 25).toISOString());

    await user.click(screen.getByRole('button', { name: 'Export CSV' }));
    expect(await screen.findByText('Downloaded authstack-audit-acc_1.csv.')).toBeInTheDocument();
    const exported = cp.callsTo('GET', LOGS)[2]!;
    expect(exported.query.get('format')).toBe('csv');
    expect(exported.query.get('action')).toBe('revision.');
    expect(exported.query.get('since')).toBe(query.get('since'));
    expect(exported.query.get('cursor')).toBeNull();
    expect(exported.headers['authorization']).toBe('Bearer token-1');
    expect(exported.headers['accept']).toBe('text/csv');
    expect(downloads.saved).toHaveLength(1);
    expect(downloads.saved[0]!.name).toBe('authstack-audit-acc_1.csv');
    expect(await downloads.saved[0]!.blob.text()).toBe('id,at,actor\n');
  });

  it('takes any action prefix typed by hand, and refuses a backwards date range', async () => {
    const user = userEvent.setup();
    const cp = auditApi();
    renderPage(<AuditPage />, cp);
    await screen.findByRole('row', { name: /revision\.created/ });
    await user.type(screen.getByLabelText('From'), '2026-11-24');
    await user.type(screen.getByLabelText('To'), '2026-11-01');
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(screen.getByRole('alert')).toHaveTextContent('The “From” day is after the “To” day.');
    expect(cp.callsTo('GET', LOGS)).toHaveLength(1);

    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    await user.selectOptions(screen.getByLabelText('Action'), 'other');
    await user.type(screen.getByLabelText('Action or its start'), 'billing.stripe.{Enter}');
    await waitFor(() => expect(cp.callsTo('GET', LOGS).at(-1)?.query.get('action')).toBe('billing.stripe.'));
  });

  it('explains refusals and failed exports in plain words', async () => {
    const user = userEvent.setup();
    downloads = captureDownloads();
    const cp = auditApi().on('GET', LOGS, (call) =>
      call.query.get('format')
        ? json(503, { error: 'unavailable', message: '' })
        : { data: [], next_cursor: null },
    );
    renderPage(<AuditPage />, cp);
    expect(await screen.findByRole('heading', { name: 'No events yet' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Export JSON' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The service is unavailable right now');
    expect(downloads.saved).toHaveLength(0);

    cp.on('GET', LOGS, () => json(403, { error: 'forbidden', message: "this action needs the permission 'audit:read' in the account" }));
    await user.click(screen.getByRole('button', { name: 'Apply filters' }));
    expect(await screen.findByText(/Your role in this account does not allow this/)).toBeInTheDocument();
  });

  it('summarises details compactly', () => {
    expect(summarize(null)).toBe('');
    expect(summarize({ plan: 'pro', nested: { a: 1 }, empty: null })).toBe('plan pro · nested 1 field');
    expect(summarize('x'.repeat(300))).toHaveLength(160);
  });

  it('names targets the dashboard knows: keys by name, instances by environment, members by email', async () => {
    const cp = auditApi()
      .on('GET', LOGS, () => ({
        data: [
          event('evt_6', 'key.revoked', { target: 'key_web' }),
          event('evt_5', 'revision.created', { target: 'ins_live' }),
          event('evt_4', 'revision.created', { target: 'ins_test' }),
          event('evt_3', 'account.member_removed', { target: 'usr_ada' }),
          event('evt_2', 'revision.created', { target: 'ins_unknown' }),
        ],
        next_cursor: null,
      }))
      .on('GET', '/v1/accounts/acc_1/keys', () => ({ data: [{ id: 'key_web', name: 'Web app', kind: 'publishable', environment: 'live' }] }))
      .on('GET', '/v1/accounts/acc_1/instances', () => ({
        data: [
          { id: 'ins_live', environment: 'live' },
          { id: 'ins_test', environment: 'test' },
        ],
      }));
    renderPage(<AuditPage members={members} />, cp);
    const cell = async (name: RegExp) => within(await screen.findByRole('row', { name })).getAllByRole('cell')[3]!;
    await waitFor(async () => expect(await cell(/key\.revoked/)).toHaveTextContent('Key “Web app” key_web'));
    expect(await cell(/evt_5|ins_live/)).toHaveTextContent('Live instance ins_live');
    expect(await cell(/ins_test/)).toHaveTextContent('Test instance ins_test');
    expect(await cell(/member_removed/)).toHaveTextContent('ada@example.com usr_ada');
    expect(await cell(/ins_unknown/)).toHaveTextContent(/^ins_unknown$/);
  });

  it('filters by a teammate’s email, sending the user id, and refuses an email of no member', async () => {
    const user = userEvent.setup();
    const cp = auditApi();
    renderPage(<AuditPage members={members} />, cp);
    await screen.findByRole('row', { name: /revision\.created/ });
    await user.type(screen.getByLabelText('Actor'), 'nobody@example.com{Enter}');
    expect(screen.getByRole('alert')).toHaveTextContent('No member of this account has the email nobody@example.com.');
    expect(screen.getByLabelText('Actor')).toHaveFocus();
    expect(cp.callsTo('GET', LOGS)).toHaveLength(1);
    await user.clear(screen.getByLabelText('Actor'));
    await user.type(screen.getByLabelText('Actor'), 'Ada@Example.com{Enter}');
    await waitFor(() => expect(cp.callsTo('GET', LOGS)).toHaveLength(2));
    expect(cp.callsTo('GET', LOGS)[1]!.query.get('actor')).toBe('user:usr_ada');
  });
});
