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

/** `POST /v1/invitations/lookup {token}`; `invalid_token` (400 or 404) when the link is invalid, used or expired. */
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
