import { useCallback, useEffect, useRef, useState } from 'react';
import { useUi } from '../context/ui';
import { describeError } from '../errors';

export interface Action<A extends unknown[], R> {
  run: (...args: A) => Promise<R | undefined>;
  pending: boolean;
  /** The last failure in plain words, ready for an `<Alert>`. */
  error: string | null;
  /** The last failure as thrown (e.g. to read its `code`). */
  cause: unknown;
  reset: () => void;
}

/**
 * Runs one user action at a time: tracks whether it is pending and what went wrong, reports
 * failures to the provider's `onError`, and ignores results that arrive after unmount.
 */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>): Action<A, R> {
  const { strings, onError } = useUi();
  const [pending, setPending] = useState(false);
  const [failure, setFailure] = useState<{ cause: unknown } | null>(null);
  const mounted = useRef(true);
  const inFlight = useRef(false);
  const fnRef = useRef(fn);
  fnRef.current = fn;

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      if (inFlight.current) return undefined;
      inFlight.current = true;
      setPending(true);
      setFailure(null);
      try {
        const result = await fnRef.current(...args);
        return result;
      } catch (cause) {
        onError?.(cause);
        if (mounted.current) setFailure({ cause });
        return undefined;
      } finally {
        inFlight.current = false;
        if (mounted.current) setPending(false);
      }
    },
    [onError],
  );

  const reset = useCallback(() => setFailure(null), []);
  return {
    run,
    pending,
    error: failure ? describeError(failure.cause, strings) : null,
    cause: failure?.cause,
    reset,
  };
}
