import type { ReactNode } from 'react';

interface AlertProps {
  tone?: 'error' | 'success';
  children?: ReactNode;
  id?: string;
}

/**
 * A live region. It is always in the document (empty when there is nothing to say) so that
 * screen readers announce a message the moment it appears: errors assertively
 * (`role="alert"`), confirmations politely (`role="status"`).
 */
export function Alert({ tone = 'error', children, id }: AlertProps) {
  const empty = children === undefined || children === null || children === false || children === '';
  return (
    <div
      id={id}
      role={tone === 'error' ? 'alert' : 'status'}
      aria-live={tone === 'error' ? 'assertive' : 'polite'}
      aria-atomic="true"
      className={`authstack-alert authstack-alert--${tone}`}
    >
      {empty ? null : children}
    </div>
  );
}
