// Which AuthStack account the dashboard works in: the account of the session's organization.
//
// The dashboard remembers the account id of each organization it created or connected (in
// localStorage); for an organization it does not know yet it asks the control plane
// (GET /v1/accounts answers the accounts of the session's organization), and it still offers
// to connect an existing account by id.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { ControlPlane } from '../api/controlPlane';

export interface AccountRef {
  id: string;
  name: string;
}

const STORAGE_KEY = 'authstack.dashboard.accounts';

function readDirectory(): Record<string, AccountRef> {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Record<string, AccountRef>) : {};
  } catch {
    return {};
  }
}

/** Signing the user in again (`reauthentication_required`): a fresh session, in the same organization. */
export interface Reauthentication {
  /** Who is signed in. */
  email: string;
  /** Signs in again with `password`; rejects (wrong password, ...) with the instance's error. */
  signIn: (password: string) => Promise<void>;
}

export interface DashboardContextValue {
  api: ControlPlane;
  /** The platform's publishable key and gateway (for snippets). */
  platform: { gateway_url: string; publishable_key: string };
  /** The session's organization, when one is selected. */
  organizationId: string | null;
  /** The account of that organization, once known. */
  account: AccountRef | null;
  /** Remembers `account` as the account of `organizationId`. */
  remember: (organizationId: string, account: AccountRef) => void;
  /** Whether this browser knows the account of `organizationId`. */
  knows: (organizationId: string) => boolean;
  /** Signing in again, when the signed-in user can (null: not offered). */
  reauthentication: Reauthentication | null;
}

const DashboardContext = createContext<DashboardContextValue | null>(null);

export function DashboardProvider({
  api,
  platform,
  organizationId,
  reauthentication = null,
  children,
}: {
  api: ControlPlane;
  platform: DashboardContextValue['platform'];
  organizationId: string | null;
  reauthentication?: Reauthentication | null;
  children: ReactNode;
}) {
  const [directory, setDirectory] = useState(readDirectory);
  const remember = useCallback((orgId: string, account: AccountRef) => {
    setDirectory((d) => {
      const next = { ...d, [orgId]: account };
      try {
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify(next));
      } catch {
        // Private mode: kept for this page only.
      }
      return next;
    });
  }, []);
  useEffect(() => {
    if (!organizationId || organizationId in directory) return;
    let cancelled = false;
    api.accounts
      .mine()
      .then((accounts) => {
        const found = accounts[0];
        if (!cancelled && found) remember(organizationId, { id: found.id, name: found.name });
      })
      // Not found or not allowed: the accounts page offers to create or connect one.
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [api, organizationId, directory, remember]);
  const value = useMemo<DashboardContextValue>(
    () => ({
      api,
      platform,
      organizationId,
      account: organizationId ? (directory[organizationId] ?? null) : null,
      remember,
      knows: (orgId: string) => orgId in directory,
      reauthentication,
    }),
    [api, platform, organizationId, directory, remember, reauthentication],
  );
  return <DashboardContext.Provider value={value}>{children}</DashboardContext.Provider>;
}

export function useDashboard(): DashboardContextValue {
  const value = useContext(DashboardContext);
  if (!value) throw new Error('useDashboard() needs a <DashboardProvider>');
  return value;
}

/** For pages that only render inside an account. */
export function useAccount(): DashboardContextValue & { account: AccountRef } {
  const value = useDashboard();
  if (!value.account) throw new Error('useAccount() needs an account');
  return value as DashboardContextValue & { account: AccountRef };
}
