import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

export interface ListboxOption {
  value: string;
  label: string;
  /** Shown after the label, e.g. the role. */
  detail?: ReactNode;
}

interface ListboxProps {
  /** Accessible name of the button (e.g. "Current organization"). */
  label: string;
  options: ListboxOption[];
  value: string | null;
  /** Button text when nothing is selected. */
  placeholder: string;
  onChange: (value: string) => void;
  disabled?: boolean;
  /** Extra entries after the options, e.g. "Create organization". */
  footer?: ReactNode;
}

/**
 * A button that opens a list of choices (the WAI-ARIA "select-only combobox" pattern, with a
 * real button): Enter, Space or ArrowDown open it; ArrowUp/ArrowDown/Home/End move; a letter
 * jumps to the next choice starting with it; Enter or Space chooses; Escape or Tab closes and
 * focus returns to the button.
 */
export function Listbox({ label, options, value, placeholder, onChange, disabled, footer }: ListboxProps) {
  const id = useId();
  const listId = `${id}-list`;
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const selectedIndex = options.findIndex((o) => o.value === value);
  const selected = selectedIndex >= 0 ? options[selectedIndex] : undefined;

  useEffect(() => {
    if (open) listRef.current?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: MouseEvent) => {
      if (rootRef.current && !rootRef.current.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onPointerDown);
    return () => document.removeEventListener('mousedown', onPointerDown);
  }, [open]);

  const openList = (at: number) => {
    if (disabled || options.length === 0) return;
    setActive(Math.min(Math.max(at, 0), options.length - 1));
    setOpen(true);
  };
  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };
  const choose = (index: number) => {
    const option = options[index];
    close();
    if (option && option.value !== value) onChange(option.value);
  };

  const onButtonKeyDown = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      openList(selectedIndex >= 0 ? selectedIndex : 0);
    }
  };

  const onListKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const last = options.length - 1;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        setActive((i) => Math.min(i + 1, last));
        break;
      case 'ArrowUp':
        event.preventDefault();
        setActive((i) => Math.max(i - 1, 0));
        break;
      case 'Home':
        event.preventDefault();
        setActive(0);
        break;
      case 'End':
        event.preventDefault();
        setActive(last);
        break;
      case 'Enter':
      case ' ':
        event.preventDefault();
        choose(active);
        break;
      case 'Escape':
        event.preventDefault();
        close();
        break;
      case 'Tab':
        setOpen(false);
        break;
      default:
        if (event.key.length === 1 && /\S/.test(event.key)) {
          const letter = event.key.toLowerCase();
          for (let step = 1; step <= options.length; step++) {
            const index = (active + step) % options.length;
            if (options[index]!.label.toLowerCase().startsWith(letter)) {
              setActive(index);
              break;
            }
          }
        }
    }
  };

  return (
    <div className="authstack-switcher" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="authstack-button authstack-button--secondary authstack-switcher-button"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        aria-label={`${label}: ${selected?.label ?? placeholder}`}
        disabled={disabled}
        onClick={() => (open ? close() : openList(selectedIndex >= 0 ? selectedIndex : 0))}
        onKeyDown={onButtonKeyDown}
      >
        {selected?.label ?? placeholder}
      </button>
      {open ? (
        <div className="authstack-listbox">
          <ul
            ref={listRef}
            id={listId}
            role="listbox"
            aria-label={label}
            tabIndex={-1}
            aria-activedescendant={`${id}-opt-${active}`}
            className="authstack-options"
            onKeyDown={onListKeyDown}
          >
            {options.map((option, index) => (
              <li
                key={option.value}
                id={`${id}-opt-${index}`}
                role="option"
                aria-selected={option.value === value}
                className={`authstack-option${index === active ? ' authstack-option--active' : ''}`}
                onMouseEnter={() => setActive(index)}
                onClick={() => choose(index)}
              >
                {option.label}
                {option.detail ? <span className="authstack-muted"> · {option.detail}</span> : null}
              </li>
            ))}
          </ul>
          {footer}
        </div>
      ) : null}
    </div>
  );
}
