import { describe, expect, it } from 'vitest';
import { plural } from './plural';

describe('plural', () => {
  it('says one in the singular and every other count in the plural', () => {
    expect(plural(1, 'user')).toBe('1 user');
    expect(plural(0, 'user')).toBe('0 users');
    expect(plural(2, 'event')).toBe('2 events');
    expect(plural(1, 'member')).toBe('1 member');
    expect(plural(3, 'setting would change', 'settings would change')).toBe('3 settings would change');
    expect(plural(12000, 'user')).toBe((12000).toLocaleString() + ' users');
  });
});
