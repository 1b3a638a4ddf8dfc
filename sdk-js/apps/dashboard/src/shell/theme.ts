import { useCallback, useEffect, useState } from 'react';

export type ColorScheme = 'light' | 'dark';
const KEY = 'authstack.dashboard.theme';

function initial(): ColorScheme {
  try {
    const saved = window.localStorage.getItem(KEY);
    if (saved === 'light' || saved === 'dark') return saved;
    return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  } catch {
    return 'light';
  }
}

/** Light or dark, remembered; follows the system until chosen. */
export function useColorScheme(): [ColorScheme, () => void] {
  const [scheme, setScheme] = useState<ColorScheme>(initial);
  useEffect(() => {
    document.documentElement.dataset['theme'] = scheme;
  }, [scheme]);
  const toggle = useCallback(() => {
    setScheme((s) => {
      const next = s === 'dark' ? 'light' : 'dark';
      try {
        window.localStorage.setItem(KEY, next);
      } catch {
        // not remembered
      }
      return next;
    });
  }, []);
  return [scheme, toggle];
}
