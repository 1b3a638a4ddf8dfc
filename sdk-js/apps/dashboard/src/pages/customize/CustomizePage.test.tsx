import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Customization } from '../../api/types';
import { FakeControlPlane, json, renderPage } from '../../../test/fake-control-plane';
import { CustomizePage } from './CustomizePage';

const BASE = '/v1/accounts/acc_1/instances/test/customizations';

function proposal(extra: Partial<Customization> = {}): Customization {
  return {
    id: 'cus_1',
    prompt: 'require a minimum password length of 12',
    planner: 'rules',
    status: 'proposed',
    patch: [{ op: 'replace', path: '/passwords/min_length', value: 12 }],
    summary: 'Passwords must have at least 12 characters.',
    security_notes: ['Stronger passwords: existing users keep theirs until they change it.'],
    base_revision: 2,
    revision: null,
    result: null,
    author: 'usr_1',
    created_at: '2026-11-24T10:00:00Z',
    updated_at: '2026-11-24T10:00:00Z',
    diff: { changes: [{ path: 'passwords.min_length', kind: 'changed', from: 8, to: 12 }], text: '' },
    quota: { used: 1, limit: 20 },
    not_active: [],
    ...extra,
  };
}

function api() {
  return new FakeControlPlane()
    .on('GET', BASE, () => ({ data: [], quota: { used: 0, limit: 20 } }))
    .on('POST', BASE, () => proposal())
    .on('POST', `${BASE}/cus_1/approve`, () =>
      proposal({ status: 'deployed', revision: 3, result: 'Done: revision 3 is live on the test instance and the change is visible.', diff: undefined }),
    )
    .on('POST', `${BASE}/cus_1/cancel`, () => proposal({ status: 'cancelled', diff: undefined }))
    .on('POST', `${BASE}/cus_1/modify`, (call) =>
      proposal({ summary: 'Passwords must have at least 14 characters.', prompt: (call.body as { prompt: string }).prompt, quota: { used: 2, limit: 20 } }),
    );
}

describe('<CustomizePage>', () => {
  it('turns a prompt into a proposal with diff and security notes, then approves it', async () => {
    const user = userEvent.setup();
    const cp = api();
    renderPage(<CustomizePage />, cp);
    expect(await screen.findByText('0 of 20 prompts used this month.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('What should change?'), 'require a minimum password length of 12');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    const log = screen.getByRole('log', { name: 'Conversation' });
    expect(await within(log).findByText('Passwords must have at least 12 characters.')).toBeInTheDocument();
    expect(within(log).getByRole('row', { name: /passwords.min_length/ })).toHaveTextContent('812');
    expect(within(log).getByRole('note', { name: 'Security notes' })).toHaveTextContent('existing users keep theirs');
    expect(screen.getByText('1 of 20 prompts used this month.')).toBeInTheDocument();
    expect(cp.callsTo('POST', BASE)[0]?.body).toEqual({ prompt: 'require a minimum password length of 12' });

    await user.click(within(log).getByRole('button', { name: 'Approve and deploy' }));
    expect(await within(log).findByText('Done: revision 3 is live on the test instance and the change is visible.')).toBeInTheDocument();
    expect(within(log).queryByRole('button', { name: 'Approve and deploy' })).toBeNull();
  });

  it('modifies a proposal with a follow-up prompt, or cancels it', async () => {
    const user = userEvent.setup();
    const cp = api();
    renderPage(<CustomizePage />, cp);
    await user.type(await screen.findByLabelText('What should change?'), 'require a minimum password length of 12');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    await user.click(await screen.findByRole('button', { name: 'Modify' }));
    const box = screen.getByLabelText('What should change in this proposal?');
    expect(box).toHaveFocus();
    await user.type(box, 'make it 14{Control>}{Enter}{/Control}');
    expect(await screen.findByText('Passwords must have at least 14 characters.')).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/cus_1/modify`)[0]?.body).toEqual({ prompt: 'make it 14' });
    expect(screen.getByText('Replaced by a newer proposal.')).toBeInTheDocument();
    expect(screen.getByText('2 of 20 prompts used this month.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByText('Cancelled; nothing changed.')).toBeInTheDocument();
  });

  it('shows refusals, failures and an exhausted quota in plain words', async () => {
    const user = userEvent.setup();
    const cp = api()
      .on('POST', BASE, () => proposal({ status: 'refused', result: 'I can change password rules, sign-up fields and origins.', diff: undefined }));
    renderPage(<CustomizePage />, cp);
    await user.type(await screen.findByLabelText('What should change?'), 'make me a sandwich');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    expect(await screen.findByText('I can change password rules, sign-up fields and origins.')).toBeInTheDocument();

    cp.on('POST', BASE, () => json(429, { error: 'quota_exceeded', message: 'monthly prompts used' }));
    await user.type(screen.getByLabelText('What should change?'), 'again');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('You have used all the customization prompts of your plan for this month.');
  });

  it('reports a deployment that failed verification', async () => {
    const user = userEvent.setup();
    const cp = api().on('POST', `${BASE}/cus_1/approve`, () =>
      proposal({ status: 'failed', revision: 3, result: 'revision 3 did not become ready; the instance is back on revision 2', diff: undefined }),
    );
    renderPage(<CustomizePage />, cp);
    await user.type(await screen.findByLabelText('What should change?'), 'require a minimum password length of 12');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    await user.click(await screen.findByRole('button', { name: 'Approve and deploy' }));
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('the instance is back on revision 2'));
  });

  it('says plainly which settings are only recorded, and offers no approval when nothing would change', async () => {
    const user = userEvent.setup();
    const cp = api().on('POST', BASE, (call) =>
      (call.body as { prompt: string }).prompt.includes('mfa')
        ? proposal({
            summary: 'Require multi-factor authentication.',
            patch: [{ op: 'replace', path: '/auth/mfa/required', value: true }],
            diff: { changes: [{ path: 'auth.mfa.required', kind: 'changed', from: false, to: true }], text: '' },
            not_active: [{ path: 'auth.mfa', label: 'Multi-factor authentication', active: false }],
          })
        : proposal({ summary: 'Passwords already need 12 characters.', patch: [], diff: { changes: [], text: '' } }),
    );
    renderPage(<CustomizePage />, cp);
    await user.type(await screen.findByLabelText('What should change?'), 'require mfa');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    const log = screen.getByRole('log', { name: 'Conversation' });
    const note = await within(log).findByRole('note', { name: 'Recorded only' });
    expect(note).toHaveTextContent('Recorded only: this instance does not act on Multi-factor authentication yet');
    expect(within(log).getByRole('button', { name: 'Approve and deploy' })).toBeInTheDocument();

    await user.click(within(log).getByRole('button', { name: 'Cancel' }));
    await user.type(screen.getByLabelText('What should change?'), 'require a minimum password length of 12');
    await user.click(screen.getByRole('button', { name: 'Propose' }));
    expect(await within(log).findByText(/Nothing to change/)).toBeInTheDocument();
    expect(within(log).queryByRole('button', { name: 'Approve and deploy' })).toBeNull();
    expect(within(log).getAllByRole('button', { name: 'Cancel' }).length).toBeGreaterThan(0);
  });
});
