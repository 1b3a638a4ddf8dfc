import type { CreatedOrganizationApiKey, OrganizationApiKey } from '@authstack/client';
import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../../errors';
import { useCan } from '../../hooks/usePermissions';
import { useOrganizationApiKeys } from '../../hooks/useOrganizationApiKeys';
import { useRoles } from '../../hooks/useRoles';
import { useUi } from '../../context/ui';
import { format } from '../../localization';
import { Alert } from '../../primitives/Alert';
import { Button } from '../../primitives/Button';
import { Field } from '../../primitives/Field';
import { Root } from '../../primitives/Root';
import { useAction } from '../../primitives/useAction';
import { PermissionEditor } from '../roles/PermissionEditor';

export interface OrganizationApiKeysProps {
  organizationId?: string;
  /** Called with the created key; `created.key` is the only time the key is available. */
  onApiKeyCreated?: (created: CreatedOrganizationApiKey) => void;
}

const day = (iso: string) => iso.slice(0, 10);

function ApiKeyItem({ apiKey, organizationId }: { apiKey: OrganizationApiKey; organizationId?: string }) {
  const { strings } = useUi();
  const { revokeApiKey } = useOrganizationApiKeys({ organizationId });
  const revoke = useAction(revokeApiKey);
  return (
    <li className="authstack-list-item" style={{ flexDirection: 'column', alignItems: 'stretch' }}>
      <span>
        <strong>{apiKey.name}</strong>{' '}
        <code className="authstack-muted">
          {apiKey.prefix}…{apiKey.last_four}
        </code>
        {apiKey.revoked_at ? <span className="authstack-badge">{strings.apiKeyRevoked}</span> : null}
      </span>
      <span className="authstack-muted">{apiKey.permissions.join(', ') || strings.permissionsNone}</span>
      <span className="authstack-muted">
        {apiKey.last_used_at ? format(strings.apiKeyLastUsed, { when: day(apiKey.last_used_at) }) : strings.apiKeyNeverUsed}
        {apiKey.expires_at ? ` · ${format(strings.apiKeyExpires, { when: day(apiKey.expires_at) })}` : null}
      </span>
      <Alert>{revoke.error}</Alert>
      {apiKey.revoked_at ? null : (
        <div className="authstack-actions">
          <Button
            variant="secondary"
            aria-label={format(strings.apiKeyRevoke, { name: apiKey.name })}
            busy={revoke.pending}
            onClick={() => void revoke.run(apiKey.id)}
          >
            {strings.revoke}
          </Button>
        </div>
      )}
    </li>
  );
}

/**
 * The organization's machine keys (`ask_org_…`, for agents, MCP servers and CI jobs), with
 * `api_keys:manage`: create one with permissions the user holds (the key is shown once),
 * see when each was last used, revoke.
 */
export function OrganizationApiKeys(props: OrganizationApiKeysProps) {
  const { strings } = useUi();
  const can = useCan();
  if (can('api_keys:manage')) return <ApiKeyManager {...props} />;
  return (
    <Root name="authstack-api-keys" as="section">
      <p className="authstack-muted">{strings.permissionDenied}</p>
    </Root>
  );
}

function ApiKeyManager({ organizationId, onApiKeyCreated }: OrganizationApiKeysProps) {
  const { strings } = useUi();
  const titleId = useId();
  const { apiKeys, isLoaded, error, createApiKey } = useOrganizationApiKeys({ organizationId });
  const { availablePermissions } = useRoles({ organizationId });
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [permissions, setPermissions] = useState<string[]>([]);
  const [created, setCreated] = useState<CreatedOrganizationApiKey | null>(null);
  const create = useAction(createApiKey);

  const onCreate = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(null);
    const result = await create.run({
      name: name.trim(),
      permissions,
      expires_in_secs: days ? Number(days) * 86400 : undefined,
    });
    if (result) {
      setCreated(result);
      setName('');
      setDays('');
      setPermissions([]);
      onApiKeyCreated?.(result);
    }
  };

  return (
    <Root name="authstack-api-keys" as="section" aria-labelledby={titleId} aria-busy={!isLoaded || undefined}>
      <div className="authstack-card authstack-card--wide authstack-form">
        <h2 id={titleId}>{strings.apiKeys}</h2>
        <Alert>{error ? describeError(error, strings) : null}</Alert>
        {!isLoaded ? (
          <p className="authstack-muted">{strings.loading}</p>
        ) : apiKeys.length === 0 ? (
          <p className="authstack-muted">{strings.apiKeysNone}</p>
        ) : (
          <ul className="authstack-list">
            {apiKeys.map((apiKey) => (
              <ApiKeyItem key={apiKey.id} apiKey={apiKey} organizationId={organizationId} />
            ))}
          </ul>
        )}
        <form className="authstack-form" onSubmit={onCreate}>
          <h3>{strings.apiKeyCreateTitle}</h3>
          <Alert>{create.error}</Alert>
          <Alert tone="success">{created ? format(strings.apiKeyCreated, { name: created.api_key.name }) : null}</Alert>
          {created ? <Field label={strings.apiKeySecretLabel} readOnly value={created.key} onFocus={(e) => e.target.select()} /> : null}
          <Field label={strings.apiKeyName} required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
          <Field
            label={`${strings.apiKeyExpiresInDays} ${strings.optional}`}
            type="number"
            min={1}
            max={3650}
            value={days}
            onChange={(e) => setDays(e.target.value)}
          />
          <PermissionEditor value={permissions} onChange={setPermissions} available={availablePermissions} />
          <div className="authstack-actions">
            <Button type="submit" busy={create.pending} busyLabel={strings.saving}>
              {strings.apiKeyCreate}
            </Button>
          </div>
        </form>
      </div>
    </Root>
  );
}
