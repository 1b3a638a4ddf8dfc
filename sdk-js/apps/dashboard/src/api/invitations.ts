// What an invitation token is for, asked of the platform instance (through the gateway, with the
// platform's publishable key, as the SDK's own calls go) before the invitee accepts.
import { ControlPlaneError } from './controlPlane';
import type { InvitationPreview } from './types';

export interface GatewayOptions {
  /** The platform instance's gateway (`GET /v1/platform` → `gateway_url`). */
  baseUrl: string;
  /** The platform's publishable key. */
  apiKey: string;
  fetch?: typeof fetch;
}

export type InvitationLookup = (token: string) => Promise<InvitationPreview>;

/**
 * `POST /v1/invitations/lookup {token}`. The link is invalid, used, cancelled or expired when it
 * fails with `invalid_grant` (400, the instance's reason in `message`; `isInvalidInvitation`), or
 * `invalid_token` as earlier instances answered.
 */
export function invitationLookup(options: GatewayOptions): InvitationLookup {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  return async (token) => {
    let response: Response;
    try {
      response = await doFetch(`${options.baseUrl.replace(/\/$/, '')}/v1/invitations/lookup`, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', 'x-authstack-key': options.apiKey },
        body: JSON.stringify({ token }),
      });
    } catch {
      throw new ControlPlaneError(0, 'network', '');
    }
    if (!response.ok) {
      let body: { error?: string; message?: string } = {};
      try {
        body = (await response.json()) as typeof body;
      } catch {
        // not JSON: the code stays generic
      }
      throw new ControlPlaneError(response.status, body.error ?? 'internal_error', body.message ?? '');
    }
    return (await response.json()) as InvitationPreview;
  };
}

/** Error codes of the lookup that mean the invitation link no longer works. */
const INVALID_LINK = new Set(['invalid_grant', 'invalid_token']);

/** The instance's verdict that the token is invalid, used, cancelled or expired (not the network, not a missing lookup). */
export function isInvalidInvitation(error: unknown): error is ControlPlaneError {
  return error instanceof ControlPlaneError && INVALID_LINK.has(error.code);
}
