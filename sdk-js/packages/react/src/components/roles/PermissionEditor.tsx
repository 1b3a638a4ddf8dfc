import type { PermissionInfo } from '@authstack/client';
import { useId } from 'react';
import { usePermissions } from '../../hooks/usePermissions';
import { useUi } from '../../context/ui';

export interface PermissionEditorProps {
  /** The selected permission names. */
  value: readonly string[];
  onChange: (permissions: string[]) => void;
  /** The catalogue to choose from (`useRoles().availablePermissions`). */
  available: readonly PermissionInfo[];
  /** Legend of the group; default "Permissions". */
  legend?: string;
  disabled?: boolean;
  /**
   * Permissions the user does not hold cannot be granted (the API refuses); they are shown
   * disabled unless this is false.
   */
  onlyGrantable?: boolean;
}

/** A group of checkboxes, one per permission of the catalogue, grouped by resource order. */
export function PermissionEditor({ value, onChange, available, legend, disabled, onlyGrantable = true }: PermissionEditorProps) {
  const { strings } = useUi();
  const id = useId();
  const { permissions: held } = usePermissions();
  const mine = new Set<string>(held);
  const selected = new Set(value);
  const sorted = [...available].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <fieldset className="authstack-checkboxes" disabled={disabled}>
      <legend>{legend ?? strings.permissions}</legend>
      {sorted.map((permission, index) => {
        const checkboxId = `${id}-${index}`;
        const grantable = !onlyGrantable || mine.has(permission.name) || selected.has(permission.name);
        return (
          <span key={permission.name} className="authstack-checkbox">
            <input
              id={checkboxId}
              type="checkbox"
              checked={selected.has(permission.name)}
              disabled={!grantable}
              onChange={(event) => {
                const next = new Set(selected);
                if (event.target.checked) next.add(permission.name);
                else next.delete(permission.name);
                onChange(sorted.map((p) => p.name).filter((name) => next.has(name)));
              }}
            />
            <label htmlFor={checkboxId}>
              <code>{permission.name}</code>
            </label>
          </span>
        );
      })}
    </fieldset>
  );
}
