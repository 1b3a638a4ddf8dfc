import { describe, expect, it } from 'vitest';
import { checkLinkBase, contrastWithWhite, formatRatio } from './rules';

describe('rules', () => {
  it('measures white text against a colour as WCAG does', () => {
    expect(formatRatio(contrastWithWhite('#6366f1'))).toBe('4.46:1');
    expect(formatRatio(contrastWithWhite('#000000'))).toBe('21.00:1');
    expect(formatRatio(contrastWithWhite('#ffffff'))).toBe('1.00:1');
    expect(contrastWithWhite('#4f46e5')).toBeGreaterThan(4.5);
  });

  it('takes an empty mail link address (cleared) or an http(s) URL', () => {
    expect(checkLinkBase('')).toBeNull();
    expect(checkLinkBase('https://app.example.com')).toBeNull();
    expect(checkLinkBase('http://localhost:5173/base')).toBeNull();
    expect(checkLinkBase('ftp://example.com')).toBe('Must be an http or https URL.');
    expect(checkLinkBase('app.example.com')).toBe('Must be an absolute URL like https://app.example.com.');
  });
});
