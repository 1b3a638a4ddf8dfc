/** Cache keys, by user: `invalidate(orgPrefix(...))` refreshes everything about one organization. */
export const keys = {
  organizations: (userId: string) => `${userId}/organizations`,
  orgPrefix: (userId: string, orgId: string) => `${userId}/org/${orgId}/`,
  members: (userId: string, orgId: string) => `${userId}/org/${orgId}/members`,
  invitations: (userId: string, orgId: string) => `${userId}/org/${orgId}/invitations`,
  roles: (userId: string, orgId: string) => `${userId}/org/${orgId}/roles`,
  catalogue: (userId: string, orgId: string) => `${userId}/org/${orgId}/permissions`,
  apiKeys: (userId: string, orgId: string) => `${userId}/org/${orgId}/api-keys`,
};
