import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AuthStackProvider } from '@authstack/react';
import '@authstack/react/styles.css';
import './app.css';
import { App } from './App';

const apiKey = import.meta.env.VITE_AUTHSTACK_PUBLISHABLE_KEY as string;
const baseUrl = import.meta.env.VITE_AUTHSTACK_GATEWAY_URL as string;

const root = createRoot(document.getElementById('root')!);
root.render(
  <StrictMode>
    {apiKey && baseUrl ? (
      <AuthStackProvider
        apiKey={apiKey}
        baseUrl={baseUrl}
        theme={{ variables: { colorPrimary: '#0f766e', borderRadius: '0.4rem' } }}
        onError={(error) => console.warn('[authstack]', (error as { code?: string }).code ?? error)}
      >
        <App />
      </AuthStackProvider>
    ) : (
      <main className="page">
        <h1>Not configured</h1>
        <p>
          Start <code>authstack dev</code>, run <code>npm run setup</code>, then <code>npm run dev</code> again (see the
          README).
        </p>
      </main>
    )}
  </StrictMode>,
);
