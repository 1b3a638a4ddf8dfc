// Why a page about one instance (its applications, its webhooks) could not load it: no such
// instance yet, the instance not running, or another error.
import { ControlPlaneError } from '../api/controlPlane';
import type { Environment } from '../api/types';
import { Link } from '../shell/router';
import { EmptyState, ErrorNotice } from './feedback';

export function InstanceLoadError({
  env,
  error,
  onRetry,
  lives,
  cannot,
}: {
  env: Environment;
  error: unknown;
  onRetry: () => void;
  /** Where the page's things are, for an account without instances: "Applications live in an instance." */
  lives: string;
  /** What an instance that is not running prevents: "its applications cannot be shown or changed". */
  cannot: string;
}) {
  if (error instanceof ControlPlaneError && error.code === 'not_found') {
    return (
      <EmptyState title={`No ${env} instance yet`}>
        <p>
          {lives} <Link to="/plans">Choose a plan</Link> to get a live and a test instance.
        </p>
      </EmptyState>
    );
  }
  if (error instanceof ControlPlaneError && (error.code === 'instance_not_running' || error.code === 'instance_unavailable')) {
    return (
      <div className="notice notice-error" role="alert">
        <p>
          The {env} instance is not running right now, so {cannot}. See its state on the <Link to="/instances">Instances</Link>{' '}
          page.
        </p>
        <button type="button" className="button-secondary" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  return <ErrorNotice error={error} onRetry={onRetry} />;
}
