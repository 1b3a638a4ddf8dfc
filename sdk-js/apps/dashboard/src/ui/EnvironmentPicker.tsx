import type { Environment } from '../api/types';

/** Live or test, as a pair of toggle buttons. */
export function EnvironmentPicker({ value, onChange }: { value: Environment; onChange: (env: Environment) => void }) {
  return (
    <div className="row" role="group" aria-label="Instance">
      {(['live', 'test'] as const).map((env) => (
        <button
          key={env}
          type="button"
          className={value === env ? undefined : 'button-secondary'}
          aria-pressed={value === env}
          onClick={() => onChange(env)}
        >
          {env === 'live' ? 'Live instance' : 'Test instance'}
        </button>
      ))}
    </div>
  );
}
