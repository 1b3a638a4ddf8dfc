import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { FakeControlPlane, json, renderPage, revision } from '../../../test/fake-control-plane';
import { RevisionsPage } from './RevisionsPage';

const BASE = '/v1/accounts/acc_1/instances';

const diff = {
  changes: [
    { path: 'passwords.min_length', kind: 'changed', from: 8, to: 12 },
    { path: 'security.allowed_origins', kind: 'added', from: null, to: ['https://app.example.com'] },
  ],
  text: '~ passwords.min_length: 8 -> 12',
};

function history() {
  return new FakeControlPlane()
    .on('GET', `${BASE}/live/revisions`, () => ({
      data: [
        revision(3, { outcome: 'failed', outcome_detail: 'did not become ready', source: 'customization' }),
        revision(2, { current: true, last_healthy: true, source: 'import' }),
        revision(1, { source: 'initial' }),
      ],
      revision: 2,
      current_revision: 2,
      last_healthy_revision: 2,
      next_before: null,
    }))
    .on('GET', `${BASE}/test/revisions`, () => json(404, { error: 'not_found', message: 'instance not found' }));
}

describe('<RevisionsPage>', () => {
  it('lists the history with source and outcome, and diffs two revisions side by side', async () => {
    const user = userEvent.setup();
    const cp = history().on('GET', `${BASE}/live/revisions/diff`, (call) => ({
      from: Number(call.query.get('from')),
      to: Number(call.query.get('to')),
      ...diff,
      security_notes: ['Passwords get stronger.'],
    }));
    renderPage(<RevisionsPage />, cp);
    const failed = await screen.findByRole('row', { name: /^3/ });
    expect(failed).toHaveTextContent('Customize');
    expect(failed).toHaveTextContent('Failed');
    expect(failed).toHaveTextContent('did not become ready');
    expect(screen.getByRole('row', { name: /^2 running/ })).toHaveTextContent('Import');

    expect(screen.getByLabelText('From')).toHaveValue('2');
    expect(screen.getByLabelText('To')).toHaveValue('3');
    await user.selectOptions(screen.getByLabelText('From'), '1');
    await user.selectOptions(screen.getByLabelText('To'), '2');
    await user.click(screen.getByRole('button', { name: 'Compare' }));
    const table = await screen.findByRole('table', { name: 'Revision 1 and revision 2, side by side' });
    const row = within(table).getByRole('row', { name: /passwords.min_length/ });
    expect(row).toHaveTextContent('812');
    expect(within(table).getByRole('columnheader', { name: 'Revision 1' })).toBeInTheDocument();
    expect(screen.getByRole('note', { name: 'Security notes' })).toHaveTextContent('Passwords get stronger.');
    expect(cp.callsTo('GET', `${BASE}/live/revisions/diff`)[0]?.query.toString()).toBe('from=1&to=2');
  });

  it('deploys a revision after confirmation and reports a failed rollout in plain words', async () => {
    const user = userEvent.setup();
    const cp = history().on('POST', `${BASE}/live/revisions/3/deploy`, () => ({
      revision: 3,
      outcome: 'failed',
      detail: 'the process exited',
      current_revision: 2,
      state: 'ready',
    }));
    renderPage(<RevisionsPage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Deploy revision 3' }));
    await user.click(within(screen.getByRole('dialog', { name: 'Deploy revision 3?' })).getByRole('button', { name: 'Deploy' }));
    expect(await screen.findByText(/Revision 3 failed to deploy \(the process exited\)\. The instance stays on revision 2\./)).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/live/revisions/3/deploy`)[0]?.query.get('wait')).toBe('true');
  });

  it('rolls back to the last healthy revision', async () => {
    const user = userEvent.setup();
    const cp = history().on('POST', `${BASE}/live/rollback`, () => ({ revision: 1, outcome: 'deployed', detail: null, current_revision: 1, state: 'ready' }));
    renderPage(<RevisionsPage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Roll back to the last healthy revision' }));
    await user.click(screen.getByRole('button', { name: 'Roll back' }));
    expect(await screen.findByText('Revision 1 is deployed.')).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/live/rollback`)[0]?.body).toEqual({});
  });

  it('exports YAML and imports YAML with a dry-run preview first', async () => {
    const user = userEvent.setup();
    const cp = history()
      .on('GET', `${BASE}/live/revisions/2/export`, () => new Response('passwords:\n  min_length: 8\n', { headers: { 'content-type': 'application/yaml' } }))
      .on('POST', `${BASE}/live/revisions/import`, (call) =>
        call.query.get('dry_run') === 'true'
          ? { valid: true, errors: [], base_revision: 2, diff, security_notes: [] }
          : json(201, { valid: true, errors: [], base_revision: 2, diff, security_notes: [], revision: revision(4), deployment: { revision: 4, outcome: 'deployed', detail: null, current_revision: 4, state: 'ready' } }),
      );
    renderPage(<RevisionsPage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Export YAML of revision 2' }));
    const exported = await screen.findByRole('region', { name: 'Revision 2 as YAML' });
    expect(exported).toHaveTextContent('min_length: 8');
    expect(within(exported).getByRole('link', { name: 'Download' })).toHaveAttribute('download', 'authstack-live-r2.yaml');

    await user.type(screen.getByLabelText('Configuration'), 'passwords:{Enter}  min_length: 12');
    await user.click(screen.getByRole('button', { name: 'Preview import' }));
    expect(await screen.findByRole('table', { name: 'What the import changes against revision 2' })).toBeInTheDocument();
    expect(cp.callsTo('POST', `${BASE}/live/revisions/import`)[0]?.headers['content-type']).toBe('application/yaml');
    await user.click(screen.getByRole('button', { name: 'Import and deploy' }));
    expect(await screen.findByText('Revision 4 is deployed.')).toBeInTheDocument();
    const applied = cp.callsTo('POST', `${BASE}/live/revisions/import`)[1]!;
    expect(applied.query.get('dry_run')).toBe('false');
    expect(applied.query.get('deploy')).toBe('true');
    expect(applied.raw).toBe('passwords:\n  min_length: 12');
  });

  it('shows invalid imports by field path without saving', async () => {
    const user = userEvent.setup();
    const cp = history().on('POST', `${BASE}/live/revisions/import`, () => ({
      valid: false,
      errors: [{ path: 'passwords.min_length', message: 'must be at least 8' }],
      base_revision: 2,
      diff,
      security_notes: [],
    }));
    renderPage(<RevisionsPage />, cp);
    await user.type(await screen.findByLabelText('Configuration'), 'x: 1');
    await user.click(screen.getByRole('button', { name: 'Preview import' }));
    expect(await screen.findByText(/must be at least 8/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Import and deploy' })).toBeNull();
  });

  it('previews and promotes test to live', async () => {
    const user = userEvent.setup();
    const cp = history().on('POST', `${BASE}/live/promote`, (call) =>
      (call.body as { dry_run: boolean }).dry_run
        ? { valid: true, errors: [], base_revision: 2, diff, security_notes: [] }
        : { valid: true, errors: [], base_revision: 2, diff, security_notes: [], deployment: { revision: 4, outcome: 'deployed', detail: null, current_revision: 4, state: 'ready' } },
    );
    renderPage(<RevisionsPage />, cp);
    await user.click(await screen.findByRole('button', { name: 'Preview promotion' }));
    expect(await screen.findByRole('table', { name: 'What promotion changes on live' })).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Promote to live' }));
    expect(await screen.findByText('Revision 4 is deployed.')).toBeInTheDocument();
  });

  it('explains a missing test instance', async () => {
    const user = userEvent.setup();
    renderPage(<RevisionsPage />, history());
    await screen.findByRole('row', { name: /^3/ });
    await user.click(screen.getByRole('button', { name: 'Test instance' }));
    expect(await screen.findByRole('heading', { name: 'No test instance' })).toBeInTheDocument();
  });
});
