// Settings of an instance, per environment: allowed origins (saved at once), and redirect URIs,
// branding (with a live sign-in preview) and the permission catalogue, saved as a new revision
// after a dry-run diff, then deployed. Readers see the values; changing them needs
// `instances:manage`.
import { useId, useMemo, useState, type FormEvent } from 'react';
import { useAccount } from '../../account/context';
import { useCapabilities } from '../../api/capabilities';
import { ControlPlaneError } from '../../api/controlPlane';
import type { Capabilities, Environment, InstanceSettings } from '../../api/types';
import { Link } from '../../shell/router';
import { EnvironmentPicker } from '../../ui/EnvironmentPicker';
import { EmptyState, ErrorNotice, Loading, Status, useAction, useLoad } from '../../ui/feedback';
import { ListEditor } from './ListEditor';
import { ConfigForm, sameList, saveRevision, type Notice } from './ConfigForm';
import { RecordedOnly } from './RecordedOnly';
import { checkOrigin, normalizeOrigin, sortErrors } from './rules';

export function SettingsPage({ canManage }: { canManage: boolean }) {
  const { api, account } = useAccount();
  const [env, setEnv] = useState<Environment>('live');
  const [notice, setNotice] = useState<Notice | null>(null);
  const capabilities = useCapabilities(api);
  // The wanted revision: the one a change builds on (normally the running one too).
  const current = useLoad(async () => {
    const list = await api.revisions.list(account.id, env, undefined, 1);
    return { list, revision: await api.revisions.get(account.id, env, list.revision) };
  }, [api, account.id, env]);

  const saved = (n: Notice) => {
    setNotice(n);
    void current.reload();
  };

  return (
    <section aria-labelledby="settings-title" className="page">
      <h1 id="settings-title">Settings</h1>
      <p>
        Where your app may call the instance from, where sign-in may send users back to, how the sign-in screens look, and the
        permissions your organizations' roles hold. Every change is a revision you can{' '}
        <Link to="/revisions">roll back</Link>.
      </p>
      <EnvironmentPicker
        value={env}
        onChange={(e) => {
          setEnv(e);
          setNotice(null);
        }}
      />
      {!canManage && (
        <div className="notice" role="note">
          <p>
            You can see these settings. Changing them needs the <code>instances:manage</code> permission: ask an owner or admin
            of the account.
          </p>
        </div>
      )}
      {notice &&
        (notice.failed ? (
          <div className="notice notice-error" role="alert">
            <p>{notice.text}</p>
          </div>
        ) : (
          <Status>{notice.text}</Status>
        ))}
      {current.isLoading && !current.data ? (
        <Loading label="Loading settings…" />
      ) : !current.data ? (
        current.error instanceof ControlPlaneError && current.error.code === 'not_found' ? (
          <EmptyState title={`No ${env} instance`}>
            <p>
              Your instances are created when you subscribe. <Link to="/plans">Choose a plan</Link> to get a live and a test
              instance.
            </p>
          </EmptyState>
        ) : (
          <ErrorNotice error={current.error} onRetry={current.reload} />
        )
      ) : (
        <>
          {current.error !== null && <ErrorNotice error={current.error} onRetry={current.reload} />}
          <p className="hint">
            Showing revision {current.data.revision.number}
            {current.data.list.current_revision !== null && current.data.list.current_revision !== current.data.revision.number
              ? ` (the instance still runs revision ${current.data.list.current_revision})`
              : ''}
            .
          </p>
          <AllowedOrigins
            key={`${env}-${current.data.revision.number}-origins`}
            env={env}
            config={(current.data.revision.config ?? {}) as InstanceSettings}
            canManage={canManage}
            capabilities={capabilities}
            onSaved={saved}
          />
          <ConfigForm
            key={`${env}-${current.data.revision.number}`}
            env={env}
            revision={current.data.revision}
            canManage={canManage}
            capabilities={capabilities}
            onSaved={saved}
          />
        </>
      )}
    </section>
  );
}

function AllowedOrigins({
  env,
  config,
  canManage,
  capabilities,
  onSaved,
}: {
  env: Environment;
  config: InstanceSettings;
  canManage: boolean;
  capabilities: Capabilities | null;
  onSaved: (notice: Notice) => void;
}) {
  const { api, account } = useAccount();
  const id = useId();
  const base = useMemo(() => config.security?.allowed_origins ?? [], [config]);
  const [origins, setOrigins] = useState(base);
  const [errors, setErrors] = useState<Record<number, string>>({});
  const changed = !sameList(base, origins);
  // A revision by the dashboard (source `dashboard`), like the rest of the page: the allowed-origins
  // PUT would record it as made through the API.
  const save = useAction(async () => {
    let notice: Notice;
    try {
      notice = await saveRevision(api, account.id, env, { security: { allowed_origins: origins } }, 'allowed origins changed');
    } catch (e) {
      // `security.allowed_origins[1]`: next to the origin it is about.
      if (e instanceof ControlPlaneError && e.fieldErrors.length > 0) setErrors(sortErrors(e.fieldErrors).origins);
      else if (e instanceof ControlPlaneError && e.code === 'invalid_request') setErrors(sortErrors([{ path: '', message: e.message }]).origins);
      throw e;
    }
    onSaved(notice.failed ? notice : { text: `Allowed origins of the ${env} instance saved. ${notice.text}` });
  });

  function submit(event: FormEvent) {
    event.preventDefault();
    void save.run();
  }

  return (
    <form className="card" aria-labelledby={`${id}-title`} onSubmit={submit}>
      <h2 id={`${id}-title`}>Allowed origins</h2>
      <RecordedOnly capabilities={capabilities} paths={['security.allowed_origins']} />
      <ListEditor
        legend="Origins"
        hideLegend
        hint="Browser origins your app runs on (scheme, host and port, no path). Requests with your publishable key from any other origin are refused. http only for localhost."
        inputLabel="New origin"
        addLabel="Add origin"
        placeholder="https://app.example.com"
        items={origins}
        onChange={(next) => {
          setOrigins(next);
          setErrors({});
          save.clearError();
        }}
        rule={checkOrigin}
        normalize={normalizeOrigin}
        errors={errors}
        readOnly={!canManage}
        emptyText="No origins yet: browsers cannot call this instance with its publishable key."
        max={50}
      />
      {save.error !== null &&
        (Object.keys(errors).length > 0 ? (
          <div className="notice notice-error" role="alert">
            <p>Nothing was saved: the origin marked above was refused.</p>
          </div>
        ) : (
          <ErrorNotice error={save.error} />
        ))}
      {canManage && (
        <div className="row">
          <button type="submit" disabled={!changed} aria-busy={save.busy}>
            {save.busy ? 'Saving and deploying…' : 'Save allowed origins'}
          </button>
          {changed && (
            <button type="button" className="button-secondary" onClick={() => (setOrigins(base), setErrors({}), save.clearError())}>
              Undo changes
            </button>
          )}
        </div>
      )}
    </form>
  );
}
