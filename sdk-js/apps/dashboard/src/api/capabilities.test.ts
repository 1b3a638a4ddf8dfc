import { describe, expect, it } from 'vitest';
import { featureInactive, inactiveSetting } from './capabilities';
import type { Capabilities } from './types';

const caps: Capabilities = {
  settings: [
    { path: 'auth.social', label: 'Social sign-in', active: false },
    { path: 'security.redirect_uris', label: 'Redirect URIs', active: false },
    { path: 'branding', label: 'Branding', active: true },
  ],
  plan_features: [
    { key: 'sso', label: 'SAML single sign-on', active: false },
    { key: 'custom_domain', label: 'Custom domains', active: true },
  ],
};

describe('capabilities', () => {
  it('marks a path not active when an inactive entry equals it or is a dot-prefix of it', () => {
    expect(inactiveSetting(caps, 'auth.social.google.enabled')?.label).toBe('Social sign-in');
    expect(inactiveSetting(caps, 'auth.social')?.label).toBe('Social sign-in');
    expect(inactiveSetting(caps, 'security.redirect_uris')?.label).toBe('Redirect URIs');
    expect(inactiveSetting(caps, 'auth.socialite')).toBeNull();
    expect(inactiveSetting(caps, 'security.allowed_origins')).toBeNull();
    expect(inactiveSetting(caps, 'branding.primary_color')).toBeNull();
    expect(inactiveSetting(null, 'auth.social')).toBeNull();
  });

  it('knows which plan features are not delivered', () => {
    expect(featureInactive(caps, 'sso')).toBe(true);
    expect(featureInactive(caps, 'custom_domain')).toBe(false);
    expect(featureInactive(null, 'sso')).toBe(false);
  });
});
