import type {
  RedirectCallbackResult,
  SignInParams,
  SignInWithRedirectParams,
  SignOutOptions,
  SignUpParams,
  SignUpResult,
  User,
} from '@authstack/client';
import { useCallback, useMemo } from 'react';
import { useAuthState, useCore } from '../context/provider';

export interface UseAuthReturn {
  /** False until the stored session has been restored (always false during server rendering). */
  isLoaded: boolean;
  isSignedIn: boolean;
  user: User | null;
  userId: string | null;
  sessionId: string | null;
  /** The organization the session works in. */
  orgId: string | null;
  orgSlug: string | null;
  orgRole: string | null;
  signIn: (params: SignInParams) => Promise<User>;
  signUp: (params: SignUpParams) => Promise<SignUpResult>;
  /** The redirect flow (a public `spa` application): to the instance's hosted sign-in page. */
  signInWithRedirect: (params: SignInWithRedirectParams) => Promise<void>;
  /** On the redirect URI's page (once per sign-in): checks the answer and signs the session in. */
  handleRedirectCallback: (url?: string) => Promise<RedirectCallbackResult>;
  /** Redirect sessions: `{ endSession: true, postLogoutRedirectUri }` also ends the sign-in at the instance. */
  signOut: (options?: SignOutOptions) => Promise<void>;
  /** A valid access token for your own API (refreshed when close to expiry), or null. */
  getToken: () => Promise<string | null>;
}

/** Who is signed in, and the actions that change it. */
export function useAuth(): UseAuthReturn {
  const { client } = useCore();
  const state = useAuthState();
  const signIn = useCallback((params: SignInParams) => client.auth.signIn(params), [client]);
  const signUp = useCallback((params: SignUpParams) => client.auth.signUp(params), [client]);
  const signOut = useCallback((options?: SignOutOptions) => client.auth.signOut(options), [client]);
  const getToken = useCallback(() => client.getAccessToken(), [client]);
  const signInWithRedirect = useCallback(
    (params: SignInWithRedirectParams) => client.auth.signInWithRedirect(params),
    [client],
  );
  const handleRedirectCallback = useCallback((url?: string) => client.auth.handleRedirectCallback(url), [client]);
  return useMemo(
    () => ({
      isLoaded: state.status !== 'loading',
      isSignedIn: state.status === 'signed-in',
      user: state.user,
      userId: state.userId,
      sessionId: state.sessionId,
      orgId: state.organizationId,
      orgSlug: state.organizationSlug,
      orgRole: state.role,
      signIn,
      signUp,
      signOut,
      signInWithRedirect,
      handleRedirectCallback,
      getToken,
    }),
    [state, signIn, signUp, signOut, signInWithRedirect, handleRedirectCallback, getToken],
  );
}
