import type { Member } from '@authstack/client';
import { useCallback, useEffect, useState } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { useTenantId } from '../context/tenant';
import { keys } from './keys';
import { useResource } from './useResource';

export interface UseOrganizationMembersOptions {
  /** Default: the current organization. */
  organizationId?: string;
  /** Members per page (default 50). */
  pageSize?: number;
}

export interface UseOrganizationMembersReturn {
  isLoaded: boolean;
  organizationId: string | null;
  members: Member[];
  error: unknown;
  /** True when more pages exist; `loadMore` fetches the next one. */
  hasMore: boolean;
  loadMore: () => Promise<void>;
  isLoadingMore: boolean;
  reload: () => Promise<void>;
  updateRole: (userId: string, role: string) => Promise<Member>;
  removeMember: (userId: string) => Promise<void>;
}

interface Page {
  members: Member[];
  next: string | null;
}

const NONE: Member[] = [];

/** The members of an organization, page by page, with role changes and removal. */
export function useOrganizationMembers(options: UseOrganizationMembersOptions = {}): UseOrganizationMembersReturn {
  const { client, cache } = useCore();
  const { userId } = useAuthState();
  const tenant = useTenantId();
  const organizationId = options.organizationId ?? tenant;
  const limit = options.pageSize ?? 50;
  const key = userId && organizationId ? keys.members(userId, organizationId) : null;
  const first = useResource<Page>(key, async () => {
    const page = await client.members.list(organizationId!, { limit });
    return { members: page.data, next: page.next_cursor ?? null };
  });
  const [more, setMore] = useState<Page | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  // A reload (or another organization) starts again from the first page.
  useEffect(() => setMore(null), [first.data]);

  const next = more ? more.next : (first.data?.next ?? null);
  const loadMore = useCallback(async () => {
    if (!organizationId || !next) return;
    setLoadingMore(true);
    try {
      const page = await client.members.list(organizationId, { limit, cursor: next });
      setMore((previous) => ({
        members: [...(previous?.members ?? []), ...page.data],
        next: page.next_cursor ?? null,
      }));
    } finally {
      setLoadingMore(false);
    }
  }, [client, organizationId, next, limit]);

  const invalidate = useCallback(() => {
    const user = client.getState().userId;
    if (user && organizationId) cache.invalidate(keys.orgPrefix(user, organizationId));
  }, [client, cache, organizationId]);

  const updateRole = useCallback(
    async (memberId: string, role: string) => {
      const updated = await client.members.updateRole(organizationId!, memberId, role);
      invalidate();
      return updated;
    },
    [client, organizationId, invalidate],
  );
  const removeMember = useCallback(
    async (memberId: string) => {
      await client.members.remove(organizationId!, memberId);
      invalidate();
    },
    [client, organizationId, invalidate],
  );

  const members = first.data ? (more ? [...first.data.members, ...more.members] : first.data.members) : NONE;
  return {
    isLoaded: !key || first.data !== undefined || first.error !== undefined,
    organizationId,
    members,
    error: first.error,
    hasMore: next !== null,
    loadMore,
    isLoadingMore: loadingMore,
    reload: first.reload,
    updateRole,
    removeMember,
  };
}
