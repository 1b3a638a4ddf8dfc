// A fresh sign-in when the control plane asks for one (`403 reauthentication_required`): minting a
// secret key needs a session younger than 10 minutes, since the key outlives the session. The
// user confirms their password, the dashboard signs in again (a new session, adopted by the
// client: nothing is stored anywhere new) and sends the request once more.
import { describeError, en } from '@authstack/react';
import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ControlPlaneError } from '../api/controlPlane';
import { useDashboard, type Reauthentication } from './context';

export function needsReauthentication(error: unknown): boolean {
  return error instanceof ControlPlaneError && error.code === 'reauthentication_required';
}

interface Pending {
  what: string;
  settle: (confirmed: boolean) => void;
}

export interface Reauth {
  /**
   * Runs `work`; when it answers `reauthentication_required`, asks for the password, signs in
   * again and runs it once more. Resolves `null` when the user cancels.
   */
  guard: <T>(what: string, work: () => Promise<T>) => Promise<T | null>;
  /** Cancels a pending confirmation (as its Cancel button does). */
  cancel: () => void;
  /** The password dialog while one is pending, else null: render it where it belongs. */
  dialog: ReactNode;
}

export function useReauthenticate(): Reauth {
  const { reauthentication } = useDashboard();
  const [pending, setPending] = useState<Pending | null>(null);
  const pendingRef = useRef<Pending | null>(null);

  const settle = useCallback((confirmed: boolean) => {
    const current = pendingRef.current;
    pendingRef.current = null;
    setPending(null);
    current?.settle(confirmed);
  }, []);
  // Leaving the page cancels.
  useEffect(
    () => () => {
      pendingRef.current?.settle(false);
      pendingRef.current = null;
    },
    [],
  );

  const guard = useCallback(
    async <T,>(what: string, work: () => Promise<T>): Promise<T | null> => {
      try {
        return await work();
      } catch (error) {
        if (!reauthentication || !needsReauthentication(error) || pendingRef.current) throw error;
      }
      const confirmed = await new Promise<boolean>((resolve) => {
        const next = { what, settle: resolve };
        pendingRef.current = next;
        setPending(next);
      });
      // Once: if the fresh session is refused as well, that error is the answer.
      return confirmed ? work() : null;
    },
    [reauthentication],
  );
  const cancel = useCallback(() => settle(false), [settle]);

  const dialog =
    pending && reauthentication ? (
      <ReauthDialog what={pending.what} reauthentication={reauthentication} onDone={() => settle(true)} onCancel={cancel} />
    ) : null;
  return { guard, cancel, dialog };
}

function signInError(error: unknown): string {
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  if (code === 'invalid_credentials') return 'That password is not correct. Try again.';
  return describeError(error, en);
}

/** Focus moves to the password; Escape or Cancel leaves everything as it was; focus returns to the opener. */
function ReauthDialog({
  what,
  reauthentication,
  onDone,
  onCancel,
}: {
  what: string;
  reauthentication: Reauthentication;
  onDone: () => void;
  onCancel: () => void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    input.current?.focus();
    return () => opener?.focus?.();
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || !password) return;
    setBusy(true);
    setError(null);
    try {
      await reauthentication.signIn(password);
    } catch (e) {
      setBusy(false);
      setPassword('');
      setError(signInError(e));
      input.current?.focus();
      return;
    }
    onDone();
  }

  return (
    <div
      className="card"
      role="dialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-why`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <h2 id={`${id}-title`}>Confirm your password</h2>
      <p id={`${id}-why`}>
        {what} needs a recent sign-in: a secret key outlives your session. Enter the password of <strong>{reauthentication.email}</strong>{' '}
        to sign in again and continue.
      </p>
      <form onSubmit={submit}>
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          ref={input}
          id={`${id}-password`}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
        />
        {error && (
          <p id={`${id}-error`} className="notice notice-error" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" aria-busy={busy}>
            {busy ? 'Signing in…' : 'Confirm and continue'}
          </button>
          <button type="button" className="button-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
