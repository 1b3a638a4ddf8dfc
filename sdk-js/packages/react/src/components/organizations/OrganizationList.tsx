import type { OrganizationMembership } from '@authstack/client';
import { useId } from 'react';
import { describeError } from '../../errors';
import { useOrganizations } from '../../hooks/useOrganizations';
import { useTenant } from '../../hooks/useTenant';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface OrganizationListProps {
  /** Called after switching to the organization the user opened. */
  onSelect?: (organization: OrganizationMembership) => void;
}

/** The user's organizations with their role in each; "Open" makes one current. */
export function OrganizationList({ onSelect }: OrganizationListProps) {
  const { strings } = useUi();
  const titleId = useId();
  const { organizations, isLoaded, error } = useOrganizations();
  const { organizationId, switchOrganization } = useTenant();
  const open = useAction(switchOrganization);

  return (
    <Root name="authstack-organization-list" as="section" aria-labelledby={titleId} aria-busy={!isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide">
        <h2 id={titleId}>{strings.organizations}</h2>
        <Alert>{error ? describeError(error, strings) : open.error}</Alert>
        {!isLoaded ? (
          <p className="authstack-muted">{strings.loading}</p>
        ) : organizations.length === 0 ? (
          <p className="authstack-muted">{strings.organizationListEmpty}</p>
        ) : (
          <ul className="authstack-list">
            {organizations.map((org) => {
              const current = org.id === organizationId;
              return (
                <li key={org.id} className="authstack-list-item">
                  <span>
                    <strong>{org.name}</strong>{' '}
                    {current ? <span className="authstack-badge">{strings.organizationCurrent}</span> : null}
                    <br />
                    <span className="authstack-muted">{format(strings.organizationRole, { role: org.role })}</span>
                  </span>
                  <Button
                    variant="secondary"
                    aria-label={`${strings.organizationOpen} ${org.name}`}
                    busy={open.pending}
                    onClick={async () => {
                      const switched = current ? org : await open.run(org.id);
                      if (switched) onSelect?.(switched);
                    }}
                  >
                    {strings.organizationOpen}
                  </Button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </Root>
  );
}
