import type { AcceptedInvitation, Invitation } from '@authstack/client';
import { useCallback } from 'react';
import { useAuthState, useCore } from '../context/provider';
import { useTenantId } from '../context/tenant';
import { keys } from './keys';
import { useResource } from './useResource';

export interface UseInvitationsReturn {
  isLoaded: boolean;
  organizationId: string | null;
  /** Open invitations: pending or expired (not accepted or revoked). */
  invitations: Invitation[];
  error: unknown;
  reload: () => Promise<void>;
  invite: (params: { email: string; role?: string }) => Promise<Invitation>;
  revoke: (invitationId: string) => Promise<void>;
  resend: (invitationId: string) => Promise<Invitation>;
  /** Accepts an invitation link's token (signed in, or creating the account with `password`). */
  accept: (params: { token: string; password?: string; name?: string }) => Promise<AcceptedInvitation>;
}

const NONE: Invitation[] = [];

/** An organization's open invitations (needs `members:read`), and sending new ones. */
export function useInvitations(options: { organizationId?: string; enabled?: boolean } = {}): UseInvitationsReturn {
  const { client, cache } = useCore();
  const { userId } = useAuthState();
  const tenant = useTenantId();
  const organizationId = options.organizationId ?? tenant;
  const key =
    options.enabled !== false && userId && organizationId ? keys.invitations(userId, organizationId) : null;
  const resource = useResource(key, () => client.invitations.list(organizationId!));

  const invalidate = useCallback(() => {
    const user = client.getState().userId;
    if (user && organizationId) cache.invalidate(keys.invitations(user, organizationId));
  }, [client, cache, organizationId]);

  const invite = useCallback(
    async (params: { email: string; role?: string }) => {
      const invitation = await client.invitations.create(organizationId!, params);
      invalidate();
      return invitation;
    },
    [client, organizationId, invalidate],
  );
  const revoke = useCallback(
    async (invitationId: string) => {
      await client.invitations.revoke(organizationId!, invitationId);
      invalidate();
    },
    [client, organizationId, invalidate],
  );
  const resend = useCallback(
    async (invitationId: string) => {
      const invitation = await client.invitations.resend(organizationId!, invitationId);
      invalidate();
      return invitation;
    },
    [client, organizationId, invalidate],
  );
  const accept = useCallback(
    async (params: { token: string; password?: string; name?: string }) => {
      const accepted = await client.invitations.accept(params);
      const user = client.getState().userId;
      if (user) cache.invalidate(keys.organizations(user));
      return accepted;
    },
    [client, cache],
  );
  return {
    isLoaded: !key || resource.data !== undefined || resource.error !== undefined,
    organizationId,
    invitations: resource.data ?? NONE,
    error: resource.error,
    reload: resource.reload,
    invite,
    revoke,
    resend,
    accept,
  };
}
