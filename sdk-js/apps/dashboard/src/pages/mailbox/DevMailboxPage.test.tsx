import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createControlPlane } from '../../api/controlPlane';
import type { DevMailbox } from '../../api/types';
import { FakeControlPlane, json } from '../../../test/fake-control-plane';
import { DevMailboxPage, MAILBOX_POLL_MS } from './DevMailboxPage';

function mailbox(): DevMailbox {
  return {
    mailboxes: [
      {
        instance_id: 'ins_platform',
        label: 'Platform (dashboard sign-in)',
        account_id: null,
        environment: null,
        outbox: '/home/ada/.authstack/dev/platform/outbox',
        messages: [
          {
            id: '0002-verify.json',
            kind: 'verify_email',
            to: 'ada@example.com',
            subject: 'Verify your email',
            text: 'Open this link to verify your email:\nhttp://127.0.0.1:7400/verify-email?token=evt_2',
            link: 'http://127.0.0.1:7400/verify-email?token=evt_2',
            received_at: '2026-12-01T10:05:00Z',
          },
          {
            id: '0001-welcome.json',
            kind: 'welcome',
            to: 'ada@example.com',
            subject: 'Welcome to AuthStack',
            text: 'Hello Ada.',
            link: null,
            received_at: '2026-12-01T10:00:00Z',
          },
        ],
      },
      {
        instance_id: 'ins_demo_live',
        label: 'Demo Company — live',
        account_id: 'acc_1',
        environment: 'live',
        outbox: '/home/ada/.authstack/dev/ins_demo_live/outbox',
        messages: [],
      },
    ],
  };
}

function renderMailbox(cp: FakeControlPlane) {
  const api = createControlPlane({ getToken: async () => null, fetch: cp.fetch });
  return render(<DevMailboxPage api={api} />);
}

afterEach(() => {
  vi.useRealTimers();
});

describe('<DevMailboxPage>', () => {
  it('lists each mailbox and its mails newest first, opens a mail, and links its link', async () => {
    const user = userEvent.setup();
    const cp = new FakeControlPlane().on('GET', '/v1/dev/mailbox', () => mailbox());
    renderMailbox(cp);
    expect(screen.getByRole('heading', { level: 1, name: 'Dev mailbox' })).toBeInTheDocument();
    const platform = await screen.findByRole('region', { name: 'Platform (dashboard sign-in)' });
    expect(platform).toHaveTextContent('ins_platform');
    expect(platform).toHaveTextContent('/home/ada/.authstack/dev/platform/outbox');
    const rows = within(platform).getAllByRole('row').slice(1);
    expect(rows.map((r) => within(r).getByRole('button').textContent)).toEqual(['Verify your email', 'Welcome to AuthStack']);
    expect(rows[0]).toHaveTextContent('ada@example.com');
    expect(within(rows[0]!).getByRole('link')).toHaveAttribute('href', 'http://127.0.0.1:7400/verify-email?token=evt_2');
    expect(within(rows[1]!).queryByRole('link')).toBeNull();

    await user.click(within(platform).getByRole('button', { name: 'Verify your email' }));
    const open = within(platform).getByRole('article', { name: 'Verify your email' });
    expect(open).toHaveTextContent('Open this link to verify your email:');
    expect(within(open).getByRole('link', { name: 'Open the link in this mail' })).toHaveAttribute(
      'href',
      'http://127.0.0.1:7400/verify-email?token=evt_2',
    );
    expect(within(platform).getByRole('button', { name: 'Verify your email' })).toHaveAttribute('aria-pressed', 'true');

    const demo = screen.getByRole('region', { name: 'Demo Company — live' });
    expect(demo).toHaveTextContent('No mail yet.');
    expect(screen.getAllByRole('heading', { level: 1 })).toHaveLength(1);
  });

  it('asks again on Refresh and every 2 seconds while open', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let polls = 0;
    const cp = new FakeControlPlane().on('GET', '/v1/dev/mailbox', () => {
      polls++;
      const box = mailbox();
      if (polls < 2) box.mailboxes[0]!.messages = [];
      return box;
    });
    const view = renderMailbox(cp);
    expect(await screen.findAllByText('No mail yet.')).toHaveLength(2);
    await act(() => vi.advanceTimersByTimeAsync(MAILBOX_POLL_MS));
    expect(await screen.findByRole('button', { name: 'Verify your email' })).toBeInTheDocument();
    expect(polls).toBe(2);
    await userEvent.setup({ advanceTimers: vi.advanceTimersByTime }).click(screen.getByRole('button', { name: 'Refresh' }));
    await waitFor(() => expect(polls).toBe(3));
    view.unmount();
    await act(() => vi.advanceTimersByTimeAsync(MAILBOX_POLL_MS * 3));
    expect(polls).toBe(3);
  });

  it('says when this control plane has no dev mailbox, and stops asking', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const cp = new FakeControlPlane().on('GET', '/v1/dev/mailbox', () => json(404, { error: 'not_found', message: 'not found' }));
    renderMailbox(cp);
    expect(await screen.findByRole('heading', { name: 'No dev mailbox here' })).toBeInTheDocument();
    await act(() => vi.advanceTimersByTimeAsync(MAILBOX_POLL_MS * 3));
    expect(cp.callsTo('GET', '/v1/dev/mailbox')).toHaveLength(1);
  });
});
