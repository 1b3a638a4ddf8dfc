import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import '@authstack/react/styles.css';
import './styles.css';
import { createControlPlane, explain } from './api/controlPlane';
import type { Platform } from './api/types';
import { App } from './App';

/** Finds the platform instance (its key and gateway) on the control plane this page came from. */
function Boot() {
  const [platform, setPlatform] = useState<Platform | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    createControlPlane({ getToken: async () => null })
      .platform()
      .then(setPlatform, setError);
  }, [attempt]);
  if (platform) return <App platform={platform} />;
  if (error) {
    return (
      <main id="main" className="auth-page">
        <h1>AuthStack is not reachable</h1>
        <p role="alert">{explain(error)}</p>
        <p>
          Is the control plane running? Start it with <code>scripts/run</code> (or <code>authstack dev</code>).
        </p>
        <button type="button" onClick={() => (setError(null), setAttempt((n) => n + 1))}>
          Try again
        </button>
      </main>
    );
  }
  return (
    <p className="loading" role="status">
      Loading AuthStack…
    </p>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Boot />
  </StrictMode>,
);
