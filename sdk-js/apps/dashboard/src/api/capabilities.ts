// What the instances act on (`GET /v1/capabilities`), so that no page claims a setting or a plan
// feature works when it is only recorded. Always from the API: the list changes as features land.
import { useEffect, useState } from 'react';
import type { ControlPlane } from './controlPlane';
import type { Capabilities, SettingCapability } from './types';

/** The entry that makes `path` not active: one with `active: false` whose path is `path` or a dot-prefix of it. */
export function inactiveSetting(capabilities: Capabilities | null, path: string): SettingCapability | null {
  if (!capabilities) return null;
  return capabilities.settings.find((s) => !s.active && (path === s.path || path.startsWith(`${s.path}.`))) ?? null;
}

/** Whether the plan feature `key` is known not to be delivered yet. */
export function featureInactive(capabilities: Capabilities | null, key: string): boolean {
  return capabilities?.plan_features.some((f) => f.key === key && !f.active) ?? false;
}

/** The capabilities, or null until (or unless) the control plane answers them. */
export function useCapabilities(api: ControlPlane): Capabilities | null {
  const [capabilities, setCapabilities] = useState<Capabilities | null>(null);
  useEffect(() => {
    let live = true;
    api.capabilities().then(
      (c) => live && setCapabilities(c),
      () => undefined, // an older control plane: nothing is marked
    );
    return () => {
      live = false;
    };
  }, [api]);
  return capabilities;
}
