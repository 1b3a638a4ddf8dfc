// The demo's server side: a backend-for-frontend on @authstack/node in redirect mode. The
// browser never holds a token: "Sign in" goes to the instance's hosted sign-in page, the
// callback exchanges the code server to server (HTTP Basic client authentication), and the
// tokens stay sealed in an HttpOnly cookie. "Sign out" revokes the refresh token and ends the
// sign-in at the instance, which tells every other application of that sign-in through its
// back-channel logout URI (`/backchannel-logout` here).
//
//   node server.mjs            # authstack dev's example application, on http://localhost:3000
//
// or configured by environment: AUTHSTACK_ISSUER, AUTHSTACK_CLIENT_ID, AUTHSTACK_CLIENT_SECRET,
// PORT, APP_NAME, BFF_SECRET (32 bytes, base64; random when absent, which signs everyone out at
// each restart), BFF_COOKIE (the cookie's name: two apps on one host need two names).
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createBff } from '@authstack/node';
import express from 'express';
import { devJsonPath } from './scripts/dev-config.mjs';

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#0f172a}
a,button{font:inherit}button,.button{display:inline-block;padding:.6rem 1rem;border:0;border-radius:.4rem;background:#0f766e;color:#fff;text-decoration:none;cursor:pointer}</style>
</head><body><main>${body}</main></body></html>`;
}

/**
 * Starts the server; resolves with `{ origin, close() }`. The application is registered with
 * the redirect URI `<origin>/callback`, the post-logout redirect URI `<origin>/` and the
 * back-channel logout URI `<origin>/backchannel-logout` (what `authstack dev` registers for its
 * example application on http://localhost:3000).
 */
export async function startServer({ issuer, clientId, clientSecret, port = 3000, host = 'localhost', name = 'Acme SaaS', cookieName = 'acme_session', secret }) {
  const origin = `http://${host}:${port}`;
  const bff = createBff({
    issuer,
    clientId,
    clientSecret,
    redirectUri: `${origin}/callback`,
    postLogoutRedirectUri: `${origin}/`,
    secret: secret ?? randomBytes(32).toString('base64'),
    cookieName,
    secure: false, // http://localhost only; a deployment keeps the default (Secure)
    loginErrorPage: '/',
  });
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' " + new URL(issuer).origin);
    next();
  });
  // GET /login, GET /callback, POST /logout, POST /backchannel-logout (and /session, /csrf).
  app.use(bff.router());
  app.get('/', bff.session(), (req, res) => {
    const error = typeof req.query.error === 'string' ? `<p role="alert">Sign-in failed: ${escape(req.query.error)}</p>` : '';
    if (!req.user) {
      return void res.send(page(name, `<h1>${escape(name)}</h1>${error}<p>You are not signed in.</p><a class="button" href="/login">Sign in</a>`));
    }
    res.send(
      page(
        name,
        `<h1>${escape(name)}</h1><p>Signed in as <strong data-testid="email">${escape(req.user.email)}</strong>.</p>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${escape(req.csrfToken)}"><button type="submit">Sign out</button></form>`,
      ),
    );
  });
  const server = await new Promise((resolve, reject) => {
    const listening = app.listen(port, host === 'localhost' ? '127.0.0.1' : host, () => resolve(listening));
    listening.once('error', reject);
  });
  return { origin, close: () => new Promise((resolve) => server.close(resolve)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const env = process.env;
  let example = {};
  const devJson = devJsonPath();
  if (existsSync(devJson)) example = JSON.parse(readFileSync(devJson, 'utf8')).demo?.example_application ?? {};
  const issuer = env.AUTHSTACK_ISSUER ?? example.issuer;
  const clientId = env.AUTHSTACK_CLIENT_ID ?? example.client_id;
  const clientSecret = env.AUTHSTACK_CLIENT_SECRET ?? example.client_secret;
  if (!issuer || !clientId || !clientSecret) {
    console.error(`no application: start \`authstack dev\` (dev.json expected at ${devJson}) or set AUTHSTACK_ISSUER, AUTHSTACK_CLIENT_ID and AUTHSTACK_CLIENT_SECRET`);
    process.exit(1);
  }
  const { origin } = await startServer({
    issuer,
    clientId,
    clientSecret,
    port: Number(env.PORT ?? 3000),
    name: env.APP_NAME ?? 'Acme SaaS',
    cookieName: env.BFF_COOKIE ?? 'acme_session',
    secret: env.BFF_SECRET,
  });
  console.log(`${env.APP_NAME ?? 'Acme SaaS'} on ${origin} (issuer ${issuer})`);
}
