import { render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { FakeInstance } from '../../../../../test-support/fake-instance';
import { clientFor, PASSWORD, renderWithAuth } from '../../../test/render';
import { AuthStackProvider } from '../../context/provider';
import { EmailVerification } from './EmailVerification';

describe('<EmailVerification>', () => {
  it('spends the token once, even under StrictMode, and signs the user in', async () => {
    const fake = new FakeInstance();
    fake.addUser('ada@example.com', PASSWORD, 'Ada', false);
    fake.outbox.push({ kind: 'verify_email', to: 'ada@example.com', token: 'evt_1' });
    const client = clientFor(fake);
    const onVerified = vi.fn();
    render(
      <StrictMode>
        <AuthStackProvider client={client}>
          <EmailVerification token="evt_1" onVerified={onVerified} />
        </AuthStackProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Your email address is verified.'));
    expect(fake.count('POST', '/v1/auth/email/verify')).toBe(1);
    expect(onVerified).toHaveBeenCalledTimes(1);
    expect(client.getState()).toMatchObject({ status: 'signed-in', user: expect.objectContaining({ email_verified: true }) });
  });

  it('explains an invalid link', async () => {
    await renderWithAuth(<EmailVerification token="evt_unknown" />);
    await waitFor(() => expect(screen.getByRole('alert')).toHaveTextContent('This link is invalid, already used or expired.'));
  });
});
