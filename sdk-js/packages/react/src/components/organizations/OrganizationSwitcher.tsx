import type { OrganizationMembership } from '@authstack/client';
import { describeError } from '../../errors';
import { useOrganizations } from '../../hooks/useOrganizations';
import { useTenant } from '../../hooks/useTenant';
import { useUi } from '../../context/ui';
import { Alert } from '../../primitives/Alert';
import { Listbox, type ListboxOption } from '../../primitives/Listbox';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface OrganizationSwitcherProps {
  /** Called after the session switched to another organization. */
  onSwitch?: (organization: OrganizationMembership) => void;
  /** Adds a "Create organization" entry that calls this... */
  onCreateOrganization?: () => void;
  /** ...or navigates here. */
  createOrganizationUrl?: string;
}

const CREATE = '\u0000create';

/**
 * A keyboard-operable menu of the user's organizations that switches the session's current
 * organization (a new access token carrying its role and permissions).
 */
export function OrganizationSwitcher({ onSwitch, onCreateOrganization, createOrganizationUrl }: OrganizationSwitcherProps) {
  const { strings } = useUi();
  const { organizations, isLoaded, error } = useOrganizations();
  const { organizationId, switchOrganization } = useTenant();
  const switching = useAction(switchOrganization);

  const options: ListboxOption[] = organizations.map((o) => ({ value: o.id, label: o.name, detail: o.role }));
  if (onCreateOrganization || createOrganizationUrl) {
    options.push({ value: CREATE, label: strings.organizationSwitcherCreate });
  }

  const onChange = async (value: string) => {
    if (value === CREATE) {
      if (onCreateOrganization) onCreateOrganization();
      else if (createOrganizationUrl) window.location.assign(createOrganizationUrl);
      return;
    }
    const switched = await switching.run(value);
    if (switched) onSwitch?.(switched);
  };

  return (
    <Root name="authstack-organization-switcher" aria-busy={!isLoaded || switching.pending || undefined}>
      <Listbox
        label={strings.organizationSwitcherLabel}
        options={options}
        value={organizationId}
        placeholder={isLoaded ? strings.organizationSwitcherNone : strings.loading}
        onChange={onChange}
        disabled={!isLoaded || switching.pending}
      />
      <Alert>{switching.error ?? (error ? describeError(error, strings) : null)}</Alert>
    </Root>
  );
}
