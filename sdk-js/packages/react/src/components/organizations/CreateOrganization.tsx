import type { OrganizationMembership } from '@authstack/client';
import { useId, useState, type FormEvent } from 'react';
import { useOrganizations } from '../../hooks/useOrganizations';
import { useUi } from '../../context/ui';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';

export interface CreateOrganizationProps {
  onCreated?: (organization: OrganizationMembership) => void;
  /** Make the new organization the session's current one (default true). */
  switchToCreated?: boolean;
}

/** Creates an organization; the user becomes its owner. */
export function CreateOrganization({ onCreated, switchToCreated = true }: CreateOrganizationProps) {
  const { strings } = useUi();
  const titleId = useId();
  const { createOrganization } = useOrganizations();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const create = useAction(() =>
    createOrganization({ name: name.trim(), slug: slug.trim() || undefined }, { switchTo: switchToCreated }),
  );

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const created = await create.run();
    if (created) {
      setName('');
      setSlug('');
      onCreated?.(created);
    }
  };

  return (
    <Root name="authstack-create-organization" as="section" aria-labelledby={titleId}>
      <form className="authstack-card authstack-form" onSubmit={onSubmit}>
        <h2 id={titleId}>{strings.createOrganizationTitle}</h2>
        <Alert>{create.error}</Alert>
        <Field
          label={strings.createOrganizationName}
          name="organization-name"
          required
          maxLength={100}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <Field
          label={`${strings.createOrganizationSlug} ${strings.optional}`}
          name="organization-slug"
          pattern="[a-z0-9][a-z0-9-]*"
          hint={strings.createOrganizationSlugHint}
          value={slug}
          onChange={(e) => setSlug(e.target.value)}
        />
        <Button type="submit" busy={create.pending} busyLabel={strings.createOrganizationSubmitting}>
          {strings.createOrganizationSubmit}
        </Button>
      </form>
    </Root>
  );
}
