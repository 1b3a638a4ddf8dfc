import { createContext, useContext } from 'react';
import { en, type Strings } from '../localization';
import type { Theme } from '../theme';

/** What every component needs to look and read right; set by `<AuthStackProvider>`. */
export interface Ui {
  strings: Strings;
  theme: Theme | undefined;
  /** The provider's `onError`, told about every failed action a component shows. */
  onError: ((error: unknown) => void) | undefined;
}

export const UiContext = createContext<Ui>({ strings: en, theme: undefined, onError: undefined });

export function useUi(): Ui {
  return useContext(UiContext);
}
