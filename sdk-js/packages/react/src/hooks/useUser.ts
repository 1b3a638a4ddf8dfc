import type { UpdateMeParams, User } from '@authstack/client';
import { useCallback } from 'react';
import { useAuthState, useCore } from '../context/provider';

export interface UseUserReturn {
  isLoaded: boolean;
  isSignedIn: boolean;
  user: User | null;
  /** Changes the name or metadata; the new user reaches every component. */
  update: (params: UpdateMeParams) => Promise<User>;
  /** Fetches the user again (`GET /v1/me`). */
  reload: () => Promise<User>;
  changePassword: (params: { currentPassword?: string; newPassword: string }) => Promise<void>;
}

/** The signed-in user. */
export function useUser(): UseUserReturn {
  const { client } = useCore();
  const state = useAuthState();
  const update = useCallback((params: UpdateMeParams) => client.me.update(params), [client]);
  const reload = useCallback(() => client.me.get(), [client]);
  const changePassword = useCallback(
    ({ currentPassword, newPassword }: { currentPassword?: string; newPassword: string }) =>
      client.auth.changePassword({ current_password: currentPassword, new_password: newPassword }),
    [client],
  );
  return {
    isLoaded: state.status !== 'loading',
    isSignedIn: state.status === 'signed-in',
    user: state.user,
    update,
    reload,
    changePassword,
  };
}
