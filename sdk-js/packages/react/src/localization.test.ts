import { describe, expect, it } from 'vitest';
import { describeError } from './errors';
import { en, format, resolveStrings } from './localization';
import { themeClassName, themeStyle } from './theme';

describe('localization', () => {
  it('overrides single strings and single error texts, keeping the rest', () => {
    const strings = resolveStrings({ signInTitle: 'Connexion', errors: { invalid_credentials: 'Identifiants incorrects.' } });
    expect(strings.signInTitle).toBe('Connexion');
    expect(strings.signUpTitle).toBe(en.signUpTitle);
    expect(strings.errors['invalid_credentials']).toBe('Identifiants incorrects.');
    expect(strings.errors['rate_limited']).toBe(en.errors['rate_limited']);
  });

  it('fills placeholders and leaves unknown ones', () => {
    expect(format('Invitation sent to {email}. {other}', { email: 'b@x.dev' })).toBe('Invitation sent to b@x.dev. {other}');
  });
});

describe('describeError', () => {
  it('puts API error codes in plain words, with the server detail where useful', () => {
    expect(describeError({ code: 'invalid_credentials', message: 'the email or password is incorrect' }, en)).toBe(
      'The email or password is incorrect.',
    );
    expect(describeError({ code: 'weak_password', message: 'password must be at least 8 characters.' }, en)).toBe(
      'Choose a stronger password: password must be at least 8 characters.',
    );
    expect(describeError(new TypeError('Failed to fetch'), en)).toBe(en.errors['network_error']);
    expect(describeError({ code: 'brand_new_code', message: 'odd' }, en)).toBe('Something went wrong: odd.');
  });
});

describe('theme', () => {
  it('turns variables into CSS custom properties', () => {
    expect(themeStyle({ variables: { colorPrimary: '#0a7', borderRadius: '2px' } })).toEqual({
      '--authstack-color-primary': '#0a7',
      '--authstack-radius': '2px',
    });
    expect(themeStyle(undefined)).toBeUndefined();
    expect(themeClassName({ colorScheme: 'dark', className: 'mine' }, 'authstack-login')).toBe(
      'authstack authstack-login authstack--dark mine',
    );
  });
});
