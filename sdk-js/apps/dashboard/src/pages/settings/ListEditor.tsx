// A list of strings to add to and remove from, checked as typed, with each entry's error (ours
// or the server's) next to it. Read-only for people who may not change it.
import { useId, useRef, useState } from 'react';
import { checkEntry } from './rules';

export function ListEditor({
  legend,
  hideLegend,
  hint,
  inputLabel,
  addLabel,
  placeholder,
  items,
  onChange,
  rule,
  normalize = (v) => v.trim(),
  errors = {},
  readOnly,
  emptyText,
  max,
}: {
  legend: string;
  /** When a heading right above says the same. */
  hideLegend?: boolean;
  hint?: string;
  /** The add field's label, e.g. "New origin". */
  inputLabel: string;
  /** The add button's text, e.g. "Add origin". */
  addLabel: string;
  placeholder?: string;
  items: string[];
  onChange: (items: string[]) => void;
  rule: (value: string) => string | null;
  normalize?: (value: string) => string;
  /** The server's errors, by index. */
  errors?: Record<number, string>;
  readOnly?: boolean;
  emptyText: string;
  max?: number;
}) {
  const id = useId();
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const full = max !== undefined && items.length >= max;

  function add() {
    const entry = normalize(value);
    const error = full ? `At most ${max} entries.` : checkEntry(entry, items, rule);
    setProblem(error);
    if (error) {
      input.current?.focus();
      return;
    }
    onChange([...items, entry]);
    setValue('');
  }

  function remove(index: number) {
    onChange(items.filter((_, i) => i !== index));
    // Focus stays in the list: on the add field once the removed button is gone.
    input.current?.focus();
  }

  return (
    <fieldset className="list-editor">
      <legend className={hideLegend ? 'visually-hidden' : undefined}>{legend}</legend>
      {hint && <p className="hint">{hint}</p>}
      {items.length === 0 ? (
        <p className="hint">{emptyText}</p>
      ) : (
        <ul aria-label={legend}>
          {items.map((item, i) => (
            <li key={`${i}:${item}`}>
              <code id={`${id}-item-${i}`}>{item}</code>
              {!readOnly && (
                <button
                  type="button"
                  className="button-secondary button-small"
                  aria-label={`Remove ${item}`}
                  aria-describedby={errors[i] ? `${id}-error-${i}` : undefined}
                  onClick={() => remove(i)}
                >
                  Remove
                </button>
              )}
              {errors[i] && (
                <p className="field-error" id={`${id}-error-${i}`}>
                  {errors[i]}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      {!readOnly && (
        <>
          <label htmlFor={`${id}-new`}>{inputLabel}</label>
          <div className="row row-tight">
            <input
              id={`${id}-new`}
              ref={input}
              value={value}
              placeholder={placeholder}
              spellCheck={false}
              autoCapitalize="off"
              aria-invalid={problem ? true : undefined}
              aria-describedby={problem ? `${id}-problem` : undefined}
              onChange={(e) => {
                setValue(e.target.value);
                setProblem(null);
              }}
              onKeyDown={(e) => {
                // Enter adds the entry rather than submitting the surrounding form.
                if (e.key === 'Enter') {
                  e.preventDefault();
                  add();
                }
              }}
            />
            <button type="button" className="button-secondary" onClick={add}>
              {addLabel}
            </button>
          </div>
          {problem && (
            <p className="field-error" id={`${id}-problem`} role="alert">
              {problem}
            </p>
          )}
        </>
      )}
    </fieldset>
  );
}
