// The dashboard dogfoods @authstack/react against the platform instance.
import { type AuthStackClient, createClient } from '@authstack/client';
import { useState } from 'react';
import { AuthStackProvider } from '@authstack/react';
import type { Platform } from './api/types';
import { Shell } from './shell/Shell';
import { useColorScheme } from './shell/theme';

/** Words of the SDK's components in the dashboard's terms: an organization is an account. */
const localization = {
  organizationSwitcherLabel: 'Current account',
  organizationSwitcherNone: 'No account',
  organizationSwitcherCreate: 'Create account',
};

/**
 * The platform instance's API as the control plane relays it on this page's own origin: the
 * control plane keeps the refresh token in an HttpOnly cookie and hands the SDK a handle, so no
 * long-lived token is ever readable by this page's scripts.
 */
function platformSessionUrl(): string {
  return `${window.location.origin}/platform`;
}

export interface AppProps {
  platform: Platform;
  /** A ready client (tests); otherwise one for the platform's key, through `/platform`. */
  client?: AuthStackClient;
  /** The control plane's fetch (tests). */
  fetch?: typeof fetch;
  /** The platform gateway's fetch (tests; the client has its own). */
  gatewayFetch?: typeof fetch;
}

export function App({ platform, client, fetch, gatewayFetch }: AppProps) {
  const [scheme, toggle] = useColorScheme();
  const [platformClient] = useState(() => client ?? createPlatformClient(platform));
  const theme = { colorScheme: scheme, variables: { colorPrimary: scheme === 'dark' ? '#5eead4' : '#0f766e' } };
  return (
    <AuthStackProvider
      client={platformClient}
      theme={theme}
      localization={localization}
      onError={(error) => console.warn('[authstack]', (error as { code?: string }).code ?? error)}
    >
      <Shell platform={platform} scheme={scheme} onToggleScheme={toggle} fetch={fetch} gatewayFetch={gatewayFetch} />
    </AuthStackProvider>
  );
}

/**
 * The client of the platform instance, through the relay. The SDK sends no cookies by default;
 * the relay's cookie must travel, to this origin only.
 */
function createPlatformClient(platform: Platform): AuthStackClient {
  return createClient({
    apiKey: platform.publishable_key,
    baseUrl: platformSessionUrl(),
    fetch: (input, init) => globalThis.fetch(input, { ...init, credentials: 'same-origin' }),
  });
}
