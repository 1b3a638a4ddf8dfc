// Registering an application with the instance: its name, kind, whether its sign-ins ask for one
// of the user's organizations, the URIs it may send users back to and, for a public (spa, native)
// application, the browser origins that may call its token endpoint (or, for a machine
// application, the permissions it may be granted). The instance checks them (exactly, as it will match them); its refusals name the
// field (`redirect_uris[2]: …`) and are shown next to the entry they are about.
import { useId, useState, type FormEvent } from 'react';
import { useAccount } from '../../account/context';
import type { Reauth } from '../../account/reauthenticate';
import { ControlPlaneError } from '../../api/controlPlane';
import type { ApplicationKind, ApplicationWithSecret, Environment, OrganizationSelection } from '../../api/types';
import { ErrorNotice, useAction } from '../../ui/feedback';
import { ListEditor } from '../settings/ListEditor';
import { checkOrigin, checkPermission, checkUrl, normalizeOrigin } from '../settings/rules';

export const KINDS: { kind: ApplicationKind; label: string; hint: string }[] = [
  { kind: 'web', label: 'Web app (server-side)', hint: 'Confidential: signs in with a client secret kept on your server.' },
  { kind: 'spa', label: 'Single-page app (browser)', hint: 'Public: no secret; signs in with PKCE.' },
  { kind: 'native', label: 'Native app (mobile or desktop)', hint: 'Public: no secret; signs in with PKCE.' },
  {
    kind: 'machine',
    label: 'Machine (service to service)',
    hint: 'Confidential: no users; gets tokens for itself with client_credentials and a client secret.',
  },
];

/** Whether the hosted sign-in asks users for one of their organizations (when the app's request names none). */
export const ORGANIZATION_SELECTIONS: { value: OrganizationSelection; label: string; hint: string }[] = [
  { value: 'none', label: 'Do not ask', hint: 'Tokens carry an organization only when the app asks for one (organization=…).' },
  {
    value: 'optional',
    label: 'Let users choose one',
    hint: 'Users in an organization pick one after signing in, or continue without.',
  },
  {
    value: 'required',
    label: 'Require one',
    hint: 'Users sign in to one of their organizations (the only one without asking); users in none are refused.',
  },
];

/** The instance's refusal sorted to the field it names; `null` when it names none this form has. */
export function fieldError(
  message: string,
): { field: 'name' | 'redirect' | 'logout' | 'permissions' | 'origins' | 'backchannel' | 'ttl'; index?: number; text: string } | null {
  const m = /^(name|redirect_uris|post_logout_redirect_uris|permissions|allowed_cors_origins|backchannel_logout_uri|access_token_ttl_secs)(?:\[(\d+)\])?:\s*(.*)$/s.exec(
    message.trim(),
  );
  if (!m) return null;
  const text = capital(m[3] ?? '');
  const index = m[2] === undefined ? undefined : Number(m[2]);
  const fields = {
    name: 'name',
    redirect_uris: 'redirect',
    post_logout_redirect_uris: 'logout',
    permissions: 'permissions',
    allowed_cors_origins: 'origins',
    backchannel_logout_uri: 'backchannel',
    access_token_ttl_secs: 'ttl',
  } as const;
  const field = fields[m[1] as keyof typeof fields];
  return { field, index, text };
}

function capital(text: string): string {
  const t = text.trim();
  const first = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

const exactUrl = (value: string) => checkUrl(value, true);

export function CreateApplication({
  env,
  onCreated,
  guard,
}: {
  env: Environment;
  onCreated: (created: ApplicationWithSecret) => void;
  /** Asks for a fresh sign-in when the control plane wants one. */
  guard: Reauth['guard'];
}) {
  const { api, account } = useAccount();
  const id = useId();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<ApplicationKind>('web');
  const [redirects, setRedirects] = useState<string[]>([]);
  const [logouts, setLogouts] = useState<string[]>([]);
  const [thirdParty, setThirdParty] = useState(false);
  const [permissions, setPermissions] = useState<string[]>([]);
  const [selection, setSelection] = useState<OrganizationSelection>('none');
  const [origins, setOrigins] = useState<string[]>([]);
  const [backchannel, setBackchannel] = useState('');
  const [ttl, setTtl] = useState('');
  const machine = kind === 'machine';
  const isPublic = kind === 'spa' || kind === 'native';
  const [refused, setRefused] = useState<ReturnType<typeof fieldError>>(null);
  const lifetime = ttl.trim() ? { access_token_ttl_secs: Number(ttl) } : {};
  const create = useAction(async () => {
    setRefused(null);
    try {
      const created = await guard('Creating an application', () =>
        api.applications.create(
          account.id,
          env,
          machine
            ? { name: name.trim(), kind, permissions, ...lifetime }
            : {
                ...lifetime,
                name: name.trim(),
                kind,
                redirect_uris: redirects,
                post_logout_redirect_uris: logouts,
                first_party: !thirdParty,
                organization_selection: selection,
                ...(isPublic ? { allowed_cors_origins: origins } : {}),
                ...(kind === 'web' && backchannel.trim() ? { backchannel_logout_uri: backchannel.trim() } : {}),
              },
        ),
      );
      if (!created) return;
      onCreated(created);
      setName('');
      setThirdParty(false);
      setSelection('none');
      setRedirects([]);
      setLogouts([]);
      setPermissions([]);
      setOrigins([]);
      setBackchannel('');
      setTtl('');
    } catch (e) {
      if (e instanceof ControlPlaneError && (e.code === 'invalid_request' || e.code === 'invalid_cors_origin')) {
        setRefused(fieldError(e.message));
      }
      throw e;
    }
  });
  const entryErrors = (field: 'redirect' | 'logout' | 'permissions' | 'origins') =>
    refused?.field === field && refused.index !== undefined ? { [refused.index]: refused.text } : {};
  const edited = () => {
    setRefused(null);
    create.clearError();
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    void create.run();
  }

  const nameError = refused?.field === 'name' ? refused.text : null;
  const backchannelError = refused?.field === 'backchannel' ? refused.text : null;
  const ttlError = refused?.field === 'ttl' ? refused.text : null;
  // A refusal about one entry (or the name) is shown next to it; one about a list as a whole below.
  const marked = refused !== null && (refused.field === 'name' || refused.field === 'backchannel' || refused.field === 'ttl' || refused.index !== undefined);
  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Create an application</h2>
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        value={name}
        onChange={(e) => (setName(e.target.value), edited())}
        required
        maxLength={200}
        placeholder="Customer portal"
        aria-invalid={nameError ? true : undefined}
        aria-describedby={nameError ? `${id}-name-error` : undefined}
      />
      {nameError && (
        <p className="field-error" id={`${id}-name-error`}>
          {nameError}
        </p>
      )}
      <fieldset>
        <legend>Kind</legend>
        {KINDS.map((k) => (
          <label key={k.kind}>
            <input type="radio" name={`${id}-kind`} checked={kind === k.kind} onChange={() => (setKind(k.kind), edited())} /> {k.label}
            <span className="hint"> {k.hint}</span>
          </label>
        ))}
      </fieldset>
      {machine ? (
        <ListEditor
          legend="Permissions"
          hint="What its tokens may carry, from your instance's permission catalogue; a token asks for all of them or a subset (scope)."
          inputLabel="New permission"
          addLabel="Add permission"
          placeholder="reports:read"
          items={permissions}
          onChange={(next) => (setPermissions(next), edited())}
          rule={checkPermission}
          errors={entryErrors('permissions')}
          emptyText="None yet: its tokens carry no permissions."
          max={100}
        />
      ) : (
        <>
          <label>
            <input type="checkbox" checked={thirdParty} onChange={(e) => (setThirdParty(e.target.checked), edited())} /> Made by someone
            else (third-party)
            <span className="hint"> Its users are asked once to allow it what it asks for; your own apps never ask.</span>
          </label>
          <fieldset>
            <legend>Organizations</legend>
            {ORGANIZATION_SELECTIONS.map((o) => (
              <label key={o.value}>
                <input
                  type="radio"
                  name={`${id}-organizations`}
                  checked={selection === o.value}
                  onChange={() => (setSelection(o.value), edited())}
                />{' '}
                {o.label}
                <span className="hint"> {o.hint}</span>
              </label>
            ))}
          </fieldset>
          <ListEditor
            legend="Redirect URIs"
            hint="Where the instance may send users back with a code: exactly as your app sends redirect_uri (https, or http on localhost)."
            inputLabel="New redirect URI"
            addLabel="Add redirect URI"
            placeholder="https://app.example.com/callback"
            items={redirects}
            onChange={(next) => (setRedirects(next), edited())}
            rule={exactUrl}
            errors={entryErrors('redirect')}
            emptyText="None yet: the application cannot sign anyone in until it has one."
            max={20}
          />
          <ListEditor
            legend="Post-logout redirect URIs"
            hint="Where the application may send users after they sign out (optional; the same rules)."
            inputLabel="New post-logout redirect URI"
            addLabel="Add post-logout URI"
            placeholder="https://app.example.com/signed-out"
            items={logouts}
            onChange={(next) => (setLogouts(next), edited())}
            rule={exactUrl}
            errors={entryErrors('logout')}
            emptyText="None."
            max={20}
          />
          {kind === 'web' && (
            <>
              <label htmlFor={`${id}-backchannel`}>Back-channel logout URI (optional)</label>
              <input
                id={`${id}-backchannel`}
                type="url"
                value={backchannel}
                onChange={(e) => (setBackchannel(e.target.value), edited())}
                maxLength={2048}
                placeholder="https://app.example.com/auth/backchannel-logout"
                aria-invalid={backchannelError ? true : undefined}
                aria-describedby={`${id}-backchannel-hint${backchannelError ? ` ${id}-backchannel-error` : ''}`}
              />
              <p className="hint" id={`${id}-backchannel-hint`}>
                Your server is told here, with a signed logout token, when a user it signed in signs out anywhere (OpenID Connect
                Back-Channel Logout).
              </p>
              {backchannelError && (
                <p className="field-error" id={`${id}-backchannel-error`}>
                  {backchannelError}
                </p>
              )}
            </>
          )}
          {isPublic && (
            <ListEditor
              legend="Allowed CORS origins"
              hint="Browser origins whose code calls the token, revocation and userinfo endpoints directly (scheme://host[:port], no path): only these may read the answers."
              inputLabel="New CORS origin"
              addLabel="Add CORS origin"
              placeholder="https://app.example.com"
              items={origins}
              onChange={(next) => (setOrigins(next), edited())}
              rule={checkOrigin}
              normalize={normalizeOrigin}
              errors={entryErrors('origins')}
              emptyText="None: no browser code may read the token endpoint's answers."
              max={20}
            />
          )}
        </>
      )}
      <label htmlFor={`${id}-ttl`}>Token lifetime in seconds (optional)</label>
      <input
        id={`${id}-ttl`}
        type="number"
        inputMode="numeric"
        min={30}
        step={1}
        value={ttl}
        onChange={(e) => (setTtl(e.target.value), edited())}
        placeholder="the instance's"
        aria-invalid={ttlError ? true : undefined}
        aria-describedby={`${id}-ttl-hint${ttlError ? ` ${id}-ttl-error` : ''}`}
      />
      <p className="hint" id={`${id}-ttl-hint`}>
        How long its access and ID tokens live; never longer than your instance's token lifetime.
      </p>
      {ttlError && (
        <p className="field-error" id={`${id}-ttl-error`}>
          {ttlError}
        </p>
      )}
      {create.error !== null &&
        (marked ? (
          <div className="notice notice-error" role="alert">
            <p>
              Nothing was created: the instance refused the{' '}
              {refused?.field === 'name'
                ? 'name'
                : refused?.field === 'backchannel'
                  ? 'back-channel logout URI'
                  : refused?.field === 'ttl'
                    ? 'token lifetime'
                : refused?.field === 'permissions'
                  ? 'permission'
                  : refused?.field === 'origins'
                    ? 'origin'
                    : 'URI'}{' '}
              marked above.
            </p>
          </div>
        ) : (
          <ErrorNotice error={create.error} />
        ))}
      <button type="submit" aria-busy={create.busy}>
        {create.busy ? 'Creating…' : 'Create application'}
      </button>
    </form>
  );
}
