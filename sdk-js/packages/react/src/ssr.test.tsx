// @vitest-environment node
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import * as AuthStack from './index';

describe('server rendering', () => {
  it('renders every component without touching window, document or storage', () => {
    expect(typeof window).toBe('undefined');
    expect(typeof document).toBe('undefined');
    const requests: string[] = [];
    const fetchSpy: typeof fetch = async (input) => {
      requests.push(String(input));
      throw new Error('no request may be sent while rendering on the server');
    };
    const components = [
      AuthStack.LoginForm,
      AuthStack.SignupForm,
      AuthStack.PasswordResetRequest,
      AuthStack.PasswordResetForm,
      AuthStack.EmailVerification,
      AuthStack.AcceptInvitation,
      AuthStack.UserProfile,
      AuthStack.OrganizationSwitcher,
      AuthStack.OrganizationList,
      AuthStack.OrganizationDetail,
      AuthStack.CreateOrganization,
      AuthStack.OrganizationSettings,
      AuthStack.InviteMemberModal,
      AuthStack.MemberList,
      AuthStack.PendingInvitations,
      AuthStack.RoleManager,
      AuthStack.experimental_SubscriptionStatus,
      AuthStack.experimental_PricingTable,
      AuthStack.experimental_BillingPortal,
    ] as const;
    const html = renderToString(
      createElement(
        AuthStack.AuthStackProvider,
        { apiKey: 'ask_test_demo', baseUrl: 'http://gateway.test', fetch: fetchSpy, theme: { variables: { colorPrimary: '#0a7' } } },
        ...components.map((Component, i) => createElement(Component as unknown as () => null, { key: i })),
        createElement(AuthStack.MemberRoleManager, { key: 'mrm', userId: 'usr_1', role: 'member' }),
        createElement(AuthStack.PermissionEditor, { key: 'pe', value: [], onChange: () => {}, available: [{ name: 'members:read', builtin: true }] }),
        createElement(AuthStack.PermissionGate, { key: 'pg', permission: 'members:read', fallback: 'gated' }, 'secret'),
        createElement(AuthStack.RoleGate, { key: 'rg', role: 'owner', fallback: 'not owner' }, 'owner only'),
        createElement(AuthStack.TenantProvider, { key: 'tp', slug: 'acme', fallback: 'resolving' }, 'inside'),
      ),
    );
    expect(html).toContain('Sign in');
    expect(html).toContain('--authstack-color-primary:#0a7');
    expect(html).toContain('gated');
    expect(html).not.toContain('secret');
    expect(html).not.toContain('owner only');
    expect(html).toContain('resolving');
    expect(requests).toEqual([]);
  });
});
