import type { CSSProperties } from 'react';

/**
 * Design tokens. Each one becomes a CSS custom property on the components' root element, so a
 * stylesheet can read or override them too (`--authstack-color-primary`, ...).
 */
export interface ThemeVariables {
  colorPrimary?: string;
  /** Text on primary-coloured surfaces (buttons). */
  colorPrimaryText?: string;
  colorBackground?: string;
  colorText?: string;
  colorTextMuted?: string;
  colorBorder?: string;
  colorDanger?: string;
  colorSuccess?: string;
  colorFocus?: string;
  colorInputBackground?: string;
  borderRadius?: string;
  fontFamily?: string;
  fontSize?: string;
  spacing?: string;
}

export interface Theme {
  variables?: ThemeVariables;
  /** `dark` switches the default palette; explicit variables still win. */
  colorScheme?: 'light' | 'dark';
  /** Extra class on every component's root element. */
  className?: string;
}

const CSS_NAMES: Record<keyof ThemeVariables, string> = {
  colorPrimary: '--authstack-color-primary',
  colorPrimaryText: '--authstack-color-primary-text',
  colorBackground: '--authstack-color-background',
  colorText: '--authstack-color-text',
  colorTextMuted: '--authstack-color-text-muted',
  colorBorder: '--authstack-color-border',
  colorDanger: '--authstack-color-danger',
  colorSuccess: '--authstack-color-success',
  colorFocus: '--authstack-color-focus',
  colorInputBackground: '--authstack-color-input-background',
  borderRadius: '--authstack-radius',
  fontFamily: '--authstack-font-family',
  fontSize: '--authstack-font-size',
  spacing: '--authstack-spacing',
};

/** The CSS custom properties for `theme`, ready for a `style` attribute. */
export function themeStyle(theme: Theme | undefined): CSSProperties | undefined {
  const variables = theme?.variables;
  if (!variables) return undefined;
  const style: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) {
    const name = CSS_NAMES[key as keyof ThemeVariables];
    if (name && typeof value === 'string' && value !== '') style[name] = value;
  }
  return style as CSSProperties;
}

/** The root element's class list for `theme`. */
export function themeClassName(theme: Theme | undefined, own: string): string {
  const parts = ['authstack', own];
  if (theme?.colorScheme === 'dark') parts.push('authstack--dark');
  if (theme?.className) parts.push(theme.className);
  return parts.join(' ');
}
