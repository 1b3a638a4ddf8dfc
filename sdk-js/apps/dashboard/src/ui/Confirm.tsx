// An inline confirmation: focus moves into it, Escape cancels, focus returns to the opener.
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Confirm({
  title,
  children,
  confirmLabel,
  danger,
  busy,
  onConfirm,
  onCancel,
  level = 2,
}: {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  /** The heading level: a confirmation on a page sits under the page's <h1>. */
  level?: 2 | 3;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('select, input, textarea, button')?.focus();
    return () => opener?.focus?.();
  }, []);
  return (
    <div
      ref={ref}
      className="card"
      role="dialog"
      aria-labelledby={`${id}-title`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      {level === 2 ? <h2 id={`${id}-title`}>{title}</h2> : <h3 id={`${id}-title`}>{title}</h3>}
      {children}
      <div className="row">
        <button type="button" className={danger ? 'button-danger' : undefined} aria-busy={busy} onClick={() => !busy && onConfirm()}>
          {confirmLabel}
        </button>
        <button type="button" className="button-secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
