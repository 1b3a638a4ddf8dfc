// A live preview of the SDK's <LoginForm> in the branding being edited. It runs on its own
// client whose requests never leave the page: submitting answers "sign-in is disabled here".
import { createClient, type AuthStackClient } from '@authstack/client';
import { AuthStackProvider, LoginForm, type Theme } from '@authstack/react';
import { useEffect, useId, useMemo, useState } from 'react';
import type { Appearance } from '../../api/types';

const DISABLED = 'Preview — sign-in is disabled here.';

/** Answers every request of the preview's client with an error of its own. */
const previewFetch: typeof fetch = async () =>
  new Response(JSON.stringify({ error: 'preview_disabled', message: DISABLED }), {
    status: 403,
    headers: { 'content-type': 'application/json' },
  });

const localization = { errors: { preview_disabled: DISABLED } };

/** WCAG relative luminance of `#rrggbb`. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** White or near-black, whichever reads better on `hex` (buttons' text). */
export function textOn(hex: string): string {
  const l = luminance(hex);
  const dark = luminance('#111827');
  return (1.05) / (l + 0.05) >= (l + 0.05) / (dark + 0.05) ? '#ffffff' : '#111827';
}

export function BrandingPreview({ color, logoUrl, appearance }: { color: string; logoUrl: string | null; appearance: Appearance }) {
  const id = useId();
  const [client, setClient] = useState<AuthStackClient | null>(null);
  // `auto` follows each user's system: show either.
  const [autoScheme, setAutoScheme] = useState<'light' | 'dark'>('light');
  const [logoFailed, setLogoFailed] = useState(false);
  useEffect(() => setLogoFailed(false), [logoUrl]);
  useEffect(() => {
    // Memory storage, no other tabs, no timers: nothing outlives the preview.
    const c = createClient({
      apiKey: 'ask_test_preview',
      baseUrl: 'https://preview.authstack.invalid',
      storage: 'memory',
      crossTab: false,
      autoRefresh: false,
      fetch: previewFetch,
      onError: () => undefined,
    });
    setClient(c);
    return () => c.destroy();
  }, []);
  const scheme = appearance === 'auto' ? autoScheme : appearance;
  const theme = useMemo<Theme>(
    () => ({ colorScheme: scheme, variables: { colorPrimary: color, colorPrimaryText: textOn(color) } }),
    [scheme, color],
  );

  return (
    <div className="preview" role="region" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Sign-in preview</h3>
      <p className="hint">{DISABLED}</p>
      {appearance === 'auto' && (
        <fieldset>
          <legend>Show the preview in</legend>
          <label>
            <input type="radio" name={`${id}-scheme`} checked={autoScheme === 'light'} onChange={() => setAutoScheme('light')} /> Light
          </label>
          <label>
            <input type="radio" name={`${id}-scheme`} checked={autoScheme === 'dark'} onChange={() => setAutoScheme('dark')} /> Dark
          </label>
        </fieldset>
      )}
      <div className={`preview-frame preview-${scheme}`} data-testid="branding-preview" data-scheme={scheme} data-color={color}>
        {logoUrl && !logoFailed && <img className="preview-logo" src={logoUrl} alt="Your logo" onError={() => setLogoFailed(true)} />}
        {logoUrl && logoFailed && <p className="hint">The logo could not be loaded from this address.</p>}
        {client && (
          <AuthStackProvider client={client} theme={theme} localization={localization}>
            <LoginForm />
          </AuthStackProvider>
        )}
      </div>
    </div>
  );
}
