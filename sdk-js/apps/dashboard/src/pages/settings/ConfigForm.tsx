// The revision-backed part of the Settings page: redirect URIs, branding, the mailed links'
// base URL and the permission catalogue, saved as a new revision after a dry-run diff.
import { useId, useMemo, useState } from 'react';
import { useAccount } from '../../account/context';

import { ControlPlaneError, explain } from '../../api/controlPlane';
import type {
  Appearance,
  BuiltinRole,
  Capabilities,
  ChangeResult,
  Environment,
  InstanceSettings,
  Revision,
} from '../../api/types';
import { Link } from '../../shell/router';
import { DiffView } from '../../ui/DiffView';

import { ErrorNotice, useAction } from '../../ui/feedback';
import { deploymentWords } from '../revisions/RevisionsPage';
import { BrandingPreview } from './BrandingPreview';
import { ListEditor } from './ListEditor';
import { plural } from '../../ui/plural';
import {
  BUILTIN_PERMISSIONS,
  AA_CONTRAST,
  checkLinkBase,
  contrastWithWhite,
  formatRatio,
  checkPermission,
  checkUrl,
  DEFAULT_COLOR,
  emptyErrors,
  isHexColor,
  ROLE_DEFAULTS,
  ROLES,
  sortErrors,
  type FieldErrors,
} from './rules';

import { RecordedOnly } from './RecordedOnly';

export type Notice = { text: string; failed?: boolean };

/** Saves a merge patch as a revision by the dashboard, then deploys it: one path for every card of the page. */
export async function saveRevision(
  api: ReturnType<typeof useAccount>['api'],
  accountId: string,
  env: Environment,
  merge: Record<string, unknown>,
  summary: string | undefined,
): Promise<Notice> {
  const created = await api.revisions.create(accountId, env, { merge, summary, source: 'dashboard' });
  const number = created.revision?.number;
  if (number === undefined) return { text: 'Saved.' };
  try {
    const deployment = await api.revisions.deploy(accountId, env, number);
    return { text: deploymentWords(deployment), failed: deployment.outcome === 'failed' };
  } catch (e) {
    return { text: `Saved as revision ${number}, but it was not deployed: ${explain(e)} Deploy it from the Revisions page.`, failed: true };
  }
}

/** What the revision-backed part of the page edits. */
interface Draft {
  redirects: string[];
  color: string;
  logo: string;
  appearance: Appearance;
  linkBase: string;
  permissions: string[];
  grants: Record<BuiltinRole, string[]>;
}

function draftOf(config: InstanceSettings): Draft {
  const grants = config.organizations?.role_grants ?? {};
  return {
    redirects: config.security?.redirect_uris ?? [],
    color: config.branding?.primary_color ?? DEFAULT_COLOR,
    logo: config.branding?.logo_url ?? '',
    appearance: config.branding?.appearance ?? 'light',
    linkBase: config.mail?.link_base_url ?? '',
    permissions: config.organizations?.permissions ?? [],
    grants: { admin: grants.admin ?? [], member: grants.member ?? [], viewer: grants.viewer ?? [] },
  };
}

export function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The RFC 7396 merge patch from `base` to `draft`: only what changed (lists are replaced whole). */
export function mergePatch(base: Draft, draft: Draft): Record<string, unknown> | null {
  const patch: Record<string, Record<string, unknown>> = {};
  const put = (section: string, key: string, value: unknown) => {
    patch[section] = { ...patch[section], [key]: value };
  };
  if (!sameList(base.redirects, draft.redirects)) put('security', 'redirect_uris', draft.redirects);
  if (base.color !== draft.color) put('branding', 'primary_color', draft.color);
  if (base.logo !== draft.logo.trim()) put('branding', 'logo_url', draft.logo.trim() || null);
  if (base.appearance !== draft.appearance) put('branding', 'appearance', draft.appearance);
  // Empty clears it (null in a merge patch removes the key).
  if (base.linkBase !== draft.linkBase.trim()) put('mail', 'link_base_url', draft.linkBase.trim() || null);
  if (!sameList(base.permissions, draft.permissions)) put('organizations', 'permissions', draft.permissions);
  const grants: Record<string, string[]> = {};
  for (const { key } of ROLES) if (!sameList(base.grants[key], draft.grants[key])) grants[key] = draft.grants[key];
  if (Object.keys(grants).length > 0) put('organizations', 'role_grants', grants);
  return Object.keys(patch).length > 0 ? patch : null;
}

/** What the page can tell before asking the server. */
function localErrors(draft: Draft): FieldErrors {
  const errors = emptyErrors();
  if (!isHexColor(draft.color)) errors.color = 'Must be a hex color like #4f46e5.';
  const logo = draft.logo.trim();
  if (logo) errors.logo = checkUrl(logo, false) ?? undefined;
  errors.linkBase = checkLinkBase(draft.linkBase.trim()) ?? undefined;
  return errors;
}

function hasErrors(e: FieldErrors): boolean {
  return (
    Object.keys(e.origins).length + Object.keys(e.redirects).length + Object.keys(e.permissions).length + e.other.length > 0 ||
    Boolean(e.color || e.logo || e.appearance || e.linkBase || e.grants)
  );
}

export function ConfigForm({
  env,
  revision,
  canManage,
  capabilities,
  onSaved,
}: {
  env: Environment;
  revision: Revision;
  canManage: boolean;
  capabilities: Capabilities | null;
  onSaved: (notice: Notice) => void;
}) {
  const { api, account } = useAccount();
  const id = useId();
  const base = useMemo(() => draftOf((revision.config ?? {}) as InstanceSettings), [revision]);
  const [draft, setDraft] = useState(base);
  const [summary, setSummary] = useState('');
  const [preview, setPreview] = useState<ChangeResult | null>(null);
  const [errors, setErrors] = useState<FieldErrors>(emptyErrors);
  const patch = mergePatch(base, draft);
  const readOnly = !canManage;

  const update = (change: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...change }));
    setPreview(null);
  };

  const look = useAction(async () => {
    const local = localErrors(draft);
    setErrors(local);
    setPreview(null);
    if (hasErrors(local)) {
      document.getElementById(local.color ? `${id}-color` : local.logo ? `${id}-logo` : `${id}-link-base`)?.focus();
      return;
    }
    if (!patch) return;
    const result = await api.revisions.create(account.id, env, { merge: patch, dry_run: true, source: 'dashboard' });
    setPreview(result);
    setErrors(sortErrors(result.errors));
  });

  const save = useAction(async () => {
    if (!patch) return;
    try {
      onSaved(await saveRevision(api, account.id, env, patch, summary.trim() || undefined));
    } catch (e) {
      if (e instanceof ControlPlaneError && e.fieldErrors.length > 0) {
        setErrors(sortErrors(e.fieldErrors));
        setPreview(null);
      }
      throw e;
    }
  });

  const invalidConfig = save.error instanceof ControlPlaneError && save.error.code === 'invalid_config' && save.error.fieldErrors.length > 0;
  const catalogue = [...BUILTIN_PERMISSIONS, ...draft.permissions];

  return (
    // Not a <form>: the branding preview holds the SDK's own sign-in form.
    <div className="settings-form">
      <div className="card">
        <h2>Redirect URIs</h2>
        <RecordedOnly capabilities={capabilities} paths={['security.redirect_uris']} />
        <ListEditor
          legend="Redirect URIs"
          hideLegend
          hint="When not empty, the only addresses any application of this instance may send users back to after sign-in or sign-out (each application registers its own too); matched exactly, no wildcards or fragments."
          inputLabel="New redirect URI"
          addLabel="Add redirect URI"
          placeholder="https://app.example.com/callback"
          items={draft.redirects}
          onChange={(redirects) => update({ redirects })}
          rule={(v) => checkUrl(v, true)}
          errors={errors.redirects}
          readOnly={readOnly}
          emptyText="No redirect URIs."
        />
      </div>

      <div className="card">
        <h2>Branding</h2>
        <RecordedOnly capabilities={capabilities} paths={['branding.primary_color', 'branding.logo_url', 'branding.appearance']} />
        <div className="branding">
          <div>
            <label htmlFor={`${id}-color`}>Primary color</label>
            <div className="row row-tight">
              <input
                type="color"
                aria-label="Pick the primary color"
                value={isHexColor(draft.color) ? draft.color.toLowerCase() : DEFAULT_COLOR}
                disabled={readOnly}
                onChange={(e) => update({ color: e.target.value })}
              />
              <input
                id={`${id}-color`}
                className="mono"
                size={9}
                value={draft.color}
                readOnly={readOnly}
                spellCheck={false}
                aria-invalid={errors.color ? true : undefined}
                aria-describedby={errors.color ? `${id}-color-error` : `${id}-color-hint`}
                onChange={(e) => update({ color: e.target.value.trim() })}
              />
            </div>
            {errors.color ? (
              <p className="field-error" id={`${id}-color-error`}>
                {errors.color}
              </p>
            ) : (
              <p className="hint" id={`${id}-color-hint`}>
                Buttons and links, as <code>#rrggbb</code>.
              </p>
            )}
            <ContrastWarning color={draft.color} />
            <label htmlFor={`${id}-logo`}>Logo URL</label>
            <input
              id={`${id}-logo`}
              className="input-wide"
              type="url"
              value={draft.logo}
              readOnly={readOnly}
              placeholder="https://example.com/logo.svg"
              spellCheck={false}
              aria-invalid={errors.logo ? true : undefined}
              aria-describedby={errors.logo ? `${id}-logo-error` : `${id}-logo-hint`}
              onChange={(e) => update({ logo: e.target.value })}
            />
            {errors.logo ? (
              <p className="field-error" id={`${id}-logo-error`}>
                {errors.logo}
              </p>
            ) : (
              <p className="hint" id={`${id}-logo-hint`}>
                An https address; leave empty for no logo.
              </p>
            )}
            <fieldset aria-describedby={errors.appearance ? `${id}-appearance-error` : undefined}>
              <legend>Appearance</legend>
              {(
                [
                  ['light', 'Light'],
                  ['dark', 'Dark'],
                  ['auto', 'Auto (follows each user’s system)'],
                ] as const
              ).map(([value, label]) => (
                <label key={value}>
                  <input
                    type="radio"
                    name={`${id}-appearance`}
                    value={value}
                    checked={draft.appearance === value}
                    disabled={readOnly}
                    onChange={() => update({ appearance: value })}
                  />{' '}
                  {label}
                </label>
              ))}
            </fieldset>
            {errors.appearance && (
              <p className="field-error" id={`${id}-appearance-error`}>
                {errors.appearance}
              </p>
            )}
          </div>
          <BrandingPreview
            color={isHexColor(draft.color) ? draft.color : base.color}
            logoUrl={draft.logo.trim() && checkUrl(draft.logo.trim(), false) === null ? draft.logo.trim() : null}
            appearance={draft.appearance}
          />
        </div>
      </div>

      <div className="card">
        <h2>Permissions</h2>
        <RecordedOnly capabilities={capabilities} paths={['organizations.permissions', 'organizations.role_grants']} />
        <p className="hint">
          Your own permissions for your app's organizations, as <code>resource:action</code> (e.g. <code>projects:create</code>).
          Owners hold them all; grant them to the other built-in roles below.
        </p>
        <ListEditor
          legend="Your permissions"
          inputLabel="New permission"
          addLabel="Add permission"
          placeholder="projects:create"
          items={draft.permissions}
          onChange={(permissions) =>
            update({
              permissions,
              // A removed permission cannot stay granted.
              grants: Object.fromEntries(
                ROLES.map(({ key }) => [
                  key,
                  draft.grants[key].filter((p) => permissions.includes(p) || (BUILTIN_PERMISSIONS as readonly string[]).includes(p)),
                ]),
              ) as Draft['grants'],
            })
          }
          rule={checkPermission}
          normalize={(v) => v.trim()}
          errors={errors.permissions}
          readOnly={readOnly}
          emptyText="Only the built-in permissions."
        />
        <RoleGrants
          catalogue={catalogue}
          grants={draft.grants}
          readOnly={readOnly}
          error={errors.grants}
          onChange={(grants) => update({ grants })}
        />
      </div>

      <div className="card">
        <h2>Mail links</h2>
        <RecordedOnly capabilities={capabilities} paths={['mail.link_base_url']} />
        <label htmlFor={`${id}-link-base`}>Link address (optional)</label>
        <input
          id={`${id}-link-base`}
          className="input-wide"
          type="url"
          value={draft.linkBase}
          readOnly={readOnly}
          placeholder="https://app.example.com"
          spellCheck={false}
          aria-invalid={errors.linkBase ? true : undefined}
          aria-describedby={errors.linkBase ? `${id}-link-base-error` : `${id}-link-base-hint`}
          onChange={(e) => update({ linkBase: e.target.value })}
        />
        {errors.linkBase ? (
          <p className="field-error" id={`${id}-link-base-error`}>
            {errors.linkBase}
          </p>
        ) : (
          <p className="hint" id={`${id}-link-base-hint`}>
            Where the links in this instance's mails (email verification, password reset, invitations) point: your app's
            address, as an http or https URL. Leave empty to clear it. Stored as <code>mail.link_base_url</code>.
          </p>
        )}
      </div>

      {errors.other.length > 0 && (
        <div className="notice notice-error" role="alert">
          <strong>Also not valid:</strong>
          <ul>
            {errors.other.map((e) => (
              <li key={`${e.path}:${e.message}`}>
                {e.path && <code>{e.path}</code>} {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}

      {canManage && (
        <div className="card" role="region" aria-labelledby={`${id}-save-title`}>
          <h2 id={`${id}-save-title`}>Review and save</h2>
          {!patch ? (
            <p className="hint">No unsaved changes.</p>
          ) : (
            <p className="hint">Preview shows exactly what changes before anything is saved.</p>
          )}
          <label htmlFor={`${id}-summary`}>Summary (optional)</label>
          <input id={`${id}-summary`} value={summary} maxLength={500} onChange={(e) => setSummary(e.target.value)} placeholder="New brand colour" />
          <div className="row">
            <button
              type="button"
              className={preview ? 'button-secondary' : undefined}
              disabled={!patch}
              aria-busy={look.busy}
              onClick={() => void look.run()}
            >
              {look.busy ? 'Checking…' : 'Preview changes'}
            </button>
            {preview?.valid && preview.diff.changes.length > 0 && (
              <button type="button" aria-busy={save.busy} onClick={() => void save.run()}>
                {save.busy ? 'Saving and deploying…' : 'Save and deploy'}
              </button>
            )}
            {patch && (
              <button
                type="button"
                className="button-secondary"
                onClick={() => {
                  setDraft(base);
                  setPreview(null);
                  setErrors(emptyErrors());
                  save.clearError();
                  look.clearError();
                }}
              >
                Undo changes
              </button>
            )}
          </div>
          {save.busy && <p role="status">Saving and deploying; this takes a few seconds…</p>}
          {look.error !== null && <ErrorNotice error={look.error} />}
          {invalidConfig ? (
            <div className="notice notice-error" role="alert">
              <p>Nothing was saved: the configuration is not valid. The fields with a problem are marked above.</p>
            </div>
          ) : (
            save.error !== null && <ErrorNotice error={save.error} />
          )}
          {preview && !preview.valid && (
            <div className="notice notice-error" role="alert">
              <p>This change is not valid; nothing was saved. The fields with a problem are marked above.</p>
            </div>
          )}
          {preview?.valid && (
            <>
              <p className="visually-hidden" role="status">
                {preview.diff.changes.length === 0
                  ? 'Nothing would change.'
                  : `${plural(preview.diff.changes.length, 'setting would change', 'settings would change')}.`}
              </p>
              <DiffView
                diff={preview.diff}
                caption={`What saving changes on the ${env} instance, against revision ${preview.base_revision}`}
                fromLabel={`Revision ${preview.base_revision}`}
                toLabel="After saving"
                securityNotes={preview.security_notes}
              />
            </>
          )}
        </div>
      )}
    </div>
  );
}

function RoleGrants({
  catalogue,
  grants,
  readOnly,
  error,
  onChange,
}: {
  catalogue: string[];
  grants: Draft['grants'];
  readOnly: boolean;
  error?: string;
  onChange: (grants: Draft['grants']) => void;
}) {
  const id = useId();
  const toggle = (role: BuiltinRole, permission: string, on: boolean) => {
    const current = grants[role];
    onChange({ ...grants, [role]: on ? [...current, permission] : current.filter((p) => p !== permission) });
  };
  return (
    <>
      <h3 id={`${id}-title`}>What the built-in roles hold</h3>
      <p className="hint" id={`${id}-hint`}>
        Checked and greyed: the role holds it by default. Owners hold every permission.
      </p>
      <div className="table-scroll">
        <table aria-labelledby={`${id}-title`} aria-describedby={error ? `${id}-error` : `${id}-hint`} className="grants">
          <thead>
            <tr>
              <th scope="col">Permission</th>
              {ROLES.map((r) => (
                <th scope="col" key={r.key}>
                  {r.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {catalogue.map((p) => (
              <tr key={p}>
                <th scope="row">
                  <code>{p}</code>
                </th>
                {ROLES.map((r) => {
                  const byDefault = ROLE_DEFAULTS[r.key].includes(p);
                  return (
                    <td key={r.key}>
                      <input
                        type="checkbox"
                        aria-label={`${r.name}: ${p}`}
                        checked={byDefault || grants[r.key].includes(p)}
                        disabled={readOnly || byDefault}
                        onChange={(e) => toggle(r.key, p, e.target.checked)}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/** Warns when white button text on the primary colour is below WCAG AA (4.5:1). */
function ContrastWarning({ color }: { color: string }) {
  if (!isHexColor(color)) return null;
  const ratio = contrastWithWhite(color);
  if (ratio >= AA_CONTRAST) return null;
  return (
    <p className="notice notice-warning" role="status">
      White button text on <code>{color.toLowerCase()}</code> has a contrast of {formatRatio(ratio)}, below the{' '}
      {AA_CONTRAST}:1 that WCAG AA asks for: some users cannot read the buttons. Choose a darker colour.
    </p>
  );
}
