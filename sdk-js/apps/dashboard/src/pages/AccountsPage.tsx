// Create an AuthStack account (an organization of the platform instance), or connect one.
import { useOrganizations, useTenant } from '@authstack/react';
import { useId, useState, type FormEvent } from 'react';
import { ControlPlaneError } from '../api/controlPlane';
import { useDashboard } from '../account/context';
import { ErrorNotice, Status, useAction } from '../ui/feedback';
import { navigate } from '../shell/router';

export function AccountsPage() {
  const { account, organizationId } = useDashboard();
  const { organizations } = useOrganizations();
  return (
    <section aria-labelledby="accounts-title" className="page">
      <h1 id="accounts-title">Accounts</h1>
      {account ? (
        <p>
          You are working in <strong>{account.name}</strong> (<code>{account.id}</code>). Switch accounts with the
          account menu at the top.
        </p>
      ) : organizationId ? (
        <p>The organization you selected is not connected to an AuthStack account in this browser yet.</p>
      ) : organizations.length > 0 ? (
        <p>Choose an account in the account menu at the top, or create a new one.</p>
      ) : (
        <p>Create your first AuthStack account to subscribe to a plan and get your instances.</p>
      )}
      <CreateAccount />
      {organizationId && !account && <ConnectAccount organizationId={organizationId} />}
    </section>
  );
}

function CreateAccount() {
  const { api, remember } = useDashboard();
  const { reload } = useOrganizations();
  const { switchOrganization } = useTenant();
  const [name, setName] = useState('');
  const id = useId();
  const create = useAction(async () => {
    if (!name.trim()) throw new ControlPlaneError(400, 'invalid_request', 'Give the account a name');
    const account = await api.accounts.create(name.trim());
    remember(account.organization_id, { id: account.id, name: account.name });
    await reload();
    await switchOrganization(account.organization_id);
    navigate('/plans');
  });
  const { busy, error } = create;

  function submit(event: FormEvent) {
    event.preventDefault();
    void create.run();
  }

  return (
    <form onSubmit={submit} className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Create an account</h2>
      <label htmlFor={`${id}-name`}>Account name</label>
      <input id={`${id}-name`} value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoComplete="organization" />
      <p className="hint">Usually your company or product. Your teammates will see it.</p>
      {error !== null && <ErrorNotice error={error} />}
      <button type="submit" aria-busy={busy}>
        {busy ? 'Creating…' : 'Create account'}
      </button>
    </form>
  );
}

function ConnectAccount({ organizationId }: { organizationId: string }) {
  const { api, remember } = useDashboard();
  const [accountId, setAccountId] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState(false);
  const id = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      const account = await api.accounts.get(accountId.trim());
      if (account.organization_id !== organizationId) throw new ControlPlaneError(404, 'not_found', '');
      remember(organizationId, { id: account.id, name: account.name });
      setDone(true);
    } catch (e) {
      setError(e);
    }
  }

  return (
    <form onSubmit={submit} className="card" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Connect an existing account</h2>
      <p>
        Teammates and other browsers: paste the account id (it starts with <code>acc_</code>; an owner finds it on this
        page, and <code>authstack dev</code> writes the demo account's to <code>dev.json</code>).
      </p>
      <label htmlFor={`${id}-id`}>Account id</label>
      <input id={`${id}-id`} value={accountId} onChange={(e) => setAccountId(e.target.value)} required />
      {error !== null && <ErrorNotice error={error} />}
      {done && <Status>Connected.</Status>}
      <button type="submit">Connect</button>
    </form>
  );
}
