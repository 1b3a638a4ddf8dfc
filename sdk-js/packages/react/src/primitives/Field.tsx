import { useId, type InputHTMLAttributes, type ReactNode, type Ref } from 'react';
import { useUi } from '../context/ui';

interface FieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'id'> {
  label: ReactNode;
  hint?: ReactNode;
  /** A problem with this field's value; marks the input invalid and is read with it. */
  error?: string | undefined;
  inputRef?: Ref<HTMLInputElement>;
}

/** A labelled input whose hint and error are tied to it with `aria-describedby`. */
export function Field({ label, hint, error, inputRef, className, ...input }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ') || undefined;
  return (
    <div className="authstack-field">
      <label className="authstack-label" htmlFor={id}>
        {label}
      </label>
      <input
        id={id}
        ref={inputRef}
        className={`authstack-input${className ? ` ${className}` : ''}`}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        {...input}
      />
      {hint ? (
        <span id={hintId} className="authstack-hint">
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={errorId} className="authstack-hint authstack-alert--error">
          {error}
        </span>
      ) : null}
    </div>
  );
}

interface ValueFieldProps {
  value: string;
  onChange: (value: string) => void;
  label?: string;
  name?: string;
  error?: string;
  inputRef?: Ref<HTMLInputElement>;
}

/** The email field every form uses. */
export function EmailField({ value, onChange, label, name = 'email', ...rest }: ValueFieldProps & { autoComplete?: string }) {
  const { strings } = useUi();
  return (
    <Field
      label={label ?? strings.email}
      type="email"
      name={name}
      autoComplete="email"
      required
      value={value}
      onChange={(e) => onChange(e.target.value)}
      {...rest}
    />
  );
}

/**
 * A password field: `fresh` for a password being chosen (autocomplete `new-password`, the
 * policy hint, at least 8 characters), else the current one.
 */
export function PasswordField({ value, onChange, label, name = 'password', fresh = false, ...rest }: ValueFieldProps & { fresh?: boolean }) {
  const { strings } = useUi();
  return (
    <Field
      label={label ?? strings.password}
      type="password"
      name={name}
      autoComplete={fresh ? 'new-password' : 'current-password'}
      required
      minLength={fresh ? 8 : undefined}
      hint={fresh ? strings.passwordHint : undefined}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      {...rest}
    />
  );
}
