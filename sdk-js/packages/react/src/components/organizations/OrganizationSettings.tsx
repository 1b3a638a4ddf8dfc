import { useId, useState, type FormEvent } from 'react';
import { useCore } from '../../context/provider';
import { useUi } from '../../context/ui';
import { keys } from '../../hooks/keys';
import { useOrganizations } from '../../hooks/useOrganizations';
import { useCan } from '../../hooks/usePermissions';
import { useTenant } from '../../hooks/useTenant';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface OrganizationSettingsProps {
  onDeleted?: (organizationId: string) => void;
  onLeft?: (organizationId: string) => void;
}

/**
 * The current organization's settings: name, slug and logo (`organization:update`), leaving it,
 * and deleting it (`organization:delete`, confirmed by typing the slug).
 */
export function OrganizationSettings({ onDeleted, onLeft }: OrganizationSettingsProps) {
  const { client, cache } = useCore();
  const { strings } = useUi();
  const titleId = useId();
  const { organization, organizationId } = useTenant();
  const { isLoaded } = useOrganizations();
  const can = useCan();
  const [draft, setDraft] = useState<{ name?: string; slug?: string; logo?: string }>({});
  const [saved, setSaved] = useState(false);
  const [confirmSlug, setConfirmSlug] = useState('');
  const refresh = () => {
    const user = client.getState().userId;
    if (user) cache.invalidate(keys.organizations(user));
  };
  const save = useAction(async () => {
    const logo = draft.logo?.trim();
    const updated = await client.organizations.update(organizationId!, {
      name: draft.name?.trim(),
      slug: draft.slug?.trim(),
      ...(draft.logo !== undefined ? { logo_url: logo === '' ? null : logo } : {}),
    });
    refresh();
    return updated;
  });
  const remove = useAction(async () => {
    await client.organizations.delete(organizationId!);
    refresh();
    return organizationId!;
  });
  const leave = useAction(async () => {
    await client.organizations.leave(organizationId!);
    refresh();
    return organizationId!;
  });

  if (!organizationId || (!organization && isLoaded)) {
    return (
      <Root name="authstack-organization-settings">
        <p className="authstack-muted">{strings.organizationNoneSelected}</p>
      </Root>
    );
  }
  if (!organization) {
    return (
      <Root name="authstack-organization-settings" aria-busy="true">
        <p className="authstack-muted">{strings.loading}</p>
      </Root>
    );
  }

  const canEdit = can('organization:update');
  const onSave = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    if (await save.run()) {
      setSaved(true);
      setDraft({});
    }
  };

  return (
    <Root name="authstack-organization-settings" as="section" aria-labelledby={titleId}>
      <div className="authstack-card authstack-card--wide authstack-form">
        <h2 id={titleId}>{strings.organizationSettingsTitle}</h2>
        <form className="authstack-form" onSubmit={onSave}>
          <Alert>{save.error}</Alert>
          <Alert tone="success">{saved ? strings.saved : null}</Alert>
          <fieldset disabled={!canEdit} className="authstack-form" style={{ border: 0, padding: 0, margin: 0 }}>
            <Field
              label={strings.createOrganizationName}
              required
              value={draft.name ?? organization.name}
              onChange={(e) => setDraft((d) => ({ ...d, name: e.target.value }))}
            />
            <Field
              label={strings.createOrganizationSlug}
              required
              hint={strings.createOrganizationSlugHint}
              value={draft.slug ?? organization.slug}
              onChange={(e) => setDraft((d) => ({ ...d, slug: e.target.value }))}
            />
            <Field
              label={`${strings.organizationSettingsLogo} ${strings.optional}`}
              type="url"
              value={draft.logo ?? organization.logo_url ?? ''}
              onChange={(e) => setDraft((d) => ({ ...d, logo: e.target.value }))}
            />
            {canEdit ? (
              <div className="authstack-actions">
                <Button type="submit" busy={save.pending} busyLabel={strings.saving}>
                  {strings.save}
                </Button>
              </div>
            ) : null}
          </fieldset>
        </form>
        <Alert>{leave.error}</Alert>
        <div className="authstack-actions">
          <Button
            variant="secondary"
            busy={leave.pending}
            onClick={async () => {
              const left = await leave.run();
              if (left) onLeft?.(left);
            }}
          >
            {strings.organizationLeave}
          </Button>
        </div>
        {can('organization:delete') ? (
          <form
            className="authstack-form"
            onSubmit={async (event) => {
              event.preventDefault();
              const deleted = await remove.run();
              if (deleted) onDeleted?.(deleted);
            }}
          >
            <h3>{strings.organizationDelete}</h3>
            <p className="authstack-muted">{format(strings.organizationDeleteConfirm, { slug: organization.slug })}</p>
            <Alert>{remove.error}</Alert>
            <Field
              label={strings.organizationDeleteSlugLabel}
              value={confirmSlug}
              autoComplete="off"
              onChange={(e) => setConfirmSlug(e.target.value)}
            />
            <div className="authstack-actions">
              <Button
                type="submit"
                variant="danger"
                busy={remove.pending}
                disabled={confirmSlug !== organization.slug}
              >
                {strings.organizationDelete}
              </Button>
            </div>
          </form>
        ) : null}
      </div>
    </Root>
  );
}
