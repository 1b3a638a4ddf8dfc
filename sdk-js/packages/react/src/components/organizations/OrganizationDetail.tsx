import { useId } from 'react';
import { useTenant } from '../../hooks/useTenant';
import { useOrganizations } from '../../hooks/useOrganizations';
import { useUi } from '../../context/ui';
import { describeError } from '../../errors';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Root } from '../../primitives/Root';

export interface OrganizationDetailProps {
  /** Default: the current organization. */
  organizationId?: string;
}

/** An organization at a glance: name, slug, logo, the user's role and what it allows. */
export function OrganizationDetail({ organizationId }: OrganizationDetailProps) {
  const { strings } = useUi();
  const titleId = useId();
  const tenant = useTenant();
  const { organizations, isLoaded, error } = useOrganizations();
  const id = organizationId ?? tenant.organizationId;
  const org = id ? organizations.find((o) => o.id === id) : undefined;
  const permissions = id === tenant.organizationId ? tenant.permissions : (org?.permissions ?? []);
  const role = id === tenant.organizationId ? (tenant.role ?? org?.role) : org?.role;

  if (!id) {
    return (
      <Root name="authstack-organization-detail">
        <p className="authstack-muted">{strings.organizationNoneSelected}</p>
      </Root>
    );
  }
  return (
    <Root name="authstack-organization-detail" as="section" aria-labelledby={titleId} aria-busy={!isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide">
        <Alert>{error ? describeError(error, strings) : isLoaded && !org ? describeError({ code: 'not_found' }, strings) : null}</Alert>
        {org ? (
          <>
            <h2 id={titleId}>
              {org.logo_url ? <img src={org.logo_url} alt="" width={32} height={32} /> : null} {org.name}
            </h2>
            <p className="authstack-muted">{org.slug}</p>
            <p>{format(strings.organizationRole, { role: role ?? '' })}</p>
            <h3>{strings.permissions}</h3>
            {permissions.length === 0 ? (
              <p className="authstack-muted">{strings.permissionsNone}</p>
            ) : (
              <ul className="authstack-list">
                {permissions.map((p) => (
                  <li key={p}>
                    <code>{p}</code>
                  </li>
                ))}
              </ul>
            )}
          </>
        ) : (
          <p id={titleId} className="authstack-muted">
            {strings.loading}
          </p>
        )}
      </div>
    </Root>
  );
}
