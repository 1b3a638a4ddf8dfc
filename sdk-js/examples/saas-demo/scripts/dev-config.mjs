// Reads what `authstack dev` wrote to DATA_DIR/dev.json and lets the demo's origins reach the
// demo account's live instance through the gateway (the gateway enforces CORS per instance).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where dev.json is: $AUTHSTACK_DEV_JSON, else the repository's ./authstack-data/dev.json. */
export function devJsonPath() {
  if (process.env.AUTHSTACK_DEV_JSON) return path.resolve(process.env.AUTHSTACK_DEV_JSON);
  if (process.env.AUTHSTACK_DATA_DIR) return path.resolve(process.env.AUTHSTACK_DATA_DIR, 'dev.json');
  return path.resolve(here, '../../../../authstack-data/dev.json');
}

/** The parsed dev.json, or an error that says how to get one. */
export function readDevInfo(file = devJsonPath()) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `${file} not found: start \`authstack dev\` first (or point AUTHSTACK_DEV_JSON / AUTHSTACK_DATA_DIR at its data dir)`,
    );
  }
  return JSON.parse(text);
}

async function call(url, init) {
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`${init?.method ?? 'GET'} ${new URL(url).pathname}: ${response.status} ${body.error ?? ''} ${body.message ?? ''}`);
  }
  return body;
}

/**
 * Adds `origins` to the allowed origins of the demo account's live instance: signs the demo
 * owner in on the platform instance (through the gateway, with the platform's publishable
 * key), works in the organization that owns the account (the control plane authorizes by the
 * token's organization), then `PUT /v1/accounts/{account}/instances/{instance}/allowed-origins`
 * on the control plane. Returns the live instance's id and its allowed origins afterwards.
 */
export async function allowOrigins(info, origins) {
  const platform = (path, init = {}) =>
    call(`${info.gateway_url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', 'x-authstack-key': info.platform_publishable_key, ...init.headers },
    });
  const login = await platform('/v1/auth/login', {
    method: 'POST',
    body: JSON.stringify({ email: info.demo.owner_email, password: info.demo.owner_password }),
  });
  const account = info.demo.account_id;
  const { data: organizations } = await platform('/v1/organizations', {
    headers: { authorization: `Bearer ${login.access_token}` },
  });
  for (const organization of organizations) {
    const switched = await platform(`/v1/organizations/${organization.id}/switch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.access_token}` },
    });
    const auth = { authorization: `Bearer ${switched.access_token}` };
    const listed = await fetch(`${info.control_plane_url}/v1/accounts/${account}/instances`, { headers: auth });
    if (listed.status === 404) continue; // another organization of the demo owner
    if (!listed.ok) throw new Error(`GET /v1/accounts/${account}/instances: ${listed.status} ${await listed.text()}`);
    const { data } = await listed.json();
    const live = data.find((instance) => instance.environment === 'live');
    if (!live) throw new Error(`the demo account ${account} has no live instance`);
    const wanted = [...new Set([...(live.allowed_origins ?? []), ...origins])];
    const updated = await call(`${info.control_plane_url}/v1/accounts/${account}/instances/${live.id}/allowed-origins`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ allowed_origins: wanted }),
    });
    return { instanceId: live.id, allowedOrigins: updated.allowed_origins };
  }
  throw new Error(`none of the demo owner's organizations owns the account ${account}`);
}

/** The default origins of `vite` (dev server) and `vite preview`. */
export const DEFAULT_ORIGINS = [
  'http://localhost:5173',
  'http://127.0.0.1:5173',
  'http://localhost:4173',
  'http://127.0.0.1:4173',
];
