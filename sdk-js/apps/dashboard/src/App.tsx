// The dashboard dogfoods @authstack/react against the platform instance.
import type { AuthStackClient } from '@authstack/client';
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

export interface AppProps {
  platform: Platform;
  /** A ready client (tests); otherwise one for the platform's key and gateway. */
  client?: AuthStackClient;
  /** The control plane's fetch (tests). */
  fetch?: typeof fetch;
  /** The platform gateway's fetch (tests; the client has its own). */
  gatewayFetch?: typeof fetch;
}

export function App({ platform, client, fetch, gatewayFetch }: AppProps) {
  const [scheme, toggle] = useColorScheme();
  const theme = { colorScheme: scheme, variables: { colorPrimary: scheme === 'dark' ? '#5eead4' : '#0f766e' } };
  const shell = <Shell platform={platform} scheme={scheme} onToggleScheme={toggle} fetch={fetch} gatewayFetch={gatewayFetch} />;
  return client ? (
    <AuthStackProvider client={client} theme={theme} localization={localization}>
      {shell}
    </AuthStackProvider>
  ) : (
    <AuthStackProvider
      apiKey={platform.publishable_key}
      baseUrl={platform.gateway_url}
      theme={theme}
      localization={localization}
      onError={(error) => console.warn('[authstack]', (error as { code?: string }).code ?? error)}
    >
      {shell}
    </AuthStackProvider>
  );
}
