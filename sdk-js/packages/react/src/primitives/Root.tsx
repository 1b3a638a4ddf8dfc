import type { HTMLAttributes, ReactNode } from 'react';
import { useUi } from '../context/ui';
import { themeClassName, themeStyle } from '../theme';

interface RootProps extends HTMLAttributes<HTMLElement> {
  /** The component's own class, e.g. `authstack-login`. */
  name: string;
  as?: 'div' | 'section' | 'span' | 'nav';
  children?: ReactNode;
}

/** Every component's outermost element: carries the theme's class and CSS variables. */
export function Root({ name, as: Tag = 'div', className, style, children, ...rest }: RootProps) {
  const { theme } = useUi();
  const classes = themeClassName(theme, name) + (className ? ` ${className}` : '');
  return (
    <Tag className={classes} style={{ ...themeStyle(theme), ...style }} {...rest}>
      {children}
    </Tag>
  );
}
