import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authstack, requireAuth, requireOrganization, requirePermission, requireRole } from './express';
import { type RunningInstance, startInstance } from '../../../test-support/authstack-instance';

let instance: RunningInstance;
let plain: string; // a session working in no organization
let owner: string; // a session working in its organization as owner
let orgId: string;

beforeAll(async () => {
  instance = await startInstance();
  const user = await instance.signUp();
  plain = user.access_token;
  const org = await instance.post<{ id: string }>('/v1/organizations', { name: 'Acme' }, plain);
  orgId = org.id;
  owner = (await instance.post<{ access_token: string }>(`/v1/organizations/${org.id}/switch`, {}, plain)).access_token;
}, 60_000);
afterAll(() => instance?.stop());

function app(options: { required?: boolean; jwksUrl?: string; errors?: unknown[] } = {}) {
  const server = express();
  server.use(
    authstack({
      issuer: instance.issuer,
      audience: instance.audience,
      jwksUrl: options.jwksUrl ?? instance.jwksUrl,
      required: options.required ?? false,
      onError: (e) => options.errors?.push(e),
    }),
  );
  server.get('/public', (req, res) => void res.json({ userId: req.auth?.userId ?? null }));
  server.get('/private', requireAuth(), (req, res) => void res.json({ userId: req.auth!.userId }));
  server.post('/projects', requirePermission('projects:create'), (_req, res) => void res.status(201).json({ ok: true }));
  server.get('/reports', requirePermission('reports:export'), (_req, res) => void res.json({ ok: true }));
  server.get('/orgs/:orgId/settings', requireOrganization({ param: 'orgId' }), (_req, res) => void res.json({ ok: true }));
  server.get('/org', requireOrganization(), (req, res) => void res.json({ org: req.auth!.organizationId }));
  server.delete('/org', requireRole('owner'), (_req, res) => void res.status(204).end());
  server.get('/admin', requireRole('admin'), (_req, res) => void res.json({ ok: true }));
  return server;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authstack() middleware', () => {
  it('sets req.auth from a valid token and null without one', async () => {
    const server = app();
    const anonymous = await request(server).get('/public');
    expect(anonymous.body).toEqual({ userId: null });
    const signedIn = await request(server).get('/public').set(bearer(plain));
    expect(signedIn.body.userId).toMatch(/\S/);
  });

  it('answers 401 with the error body for a missing or invalid token', async () => {
    const server = app();
    const missing = await request(server).get('/private');
    expect([missing.status, missing.body]).toEqual([401, { error: 'unauthorized', message: 'An access token is required.' }]);
    const forged = await request(server).get('/public').set(bearer(`${plain.slice(0, -6)}AAAAAA`));
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe('unauthorized');
    const required = await request(app({ required: true })).get('/public');
    expect(required.status).toBe(401);
  });

  it('answers 503, and reports, when the JWKS cannot be fetched', async () => {
    const errors: unknown[] = [];
    const response = await request(app({ jwksUrl: 'http://127.0.0.1:9/jwks.json', errors })).get('/public').set(bearer(plain));
    expect([response.status, response.body.error]).toEqual([503, 'unavailable']);
    expect(errors).toHaveLength(1);
  });
});

describe('guards', () => {
  it('requirePermission: 403 outside an organization or without the permission, 2xx with it', async () => {
    const server = app();
    const noOrg = await request(server).post('/projects').set(bearer(plain));
    expect([noOrg.status, noOrg.body.error]).toEqual([403, 'forbidden']);
    expect(noOrg.body.message).toMatch(/projects:create/);
    expect((await request(server).post('/projects').set(bearer(owner))).status).toBe(201);
    expect((await request(server).get('/reports').set(bearer(owner))).status).toBe(403);
    expect((await request(server).post('/projects')).status).toBe(401);
  });

  it('requireOrganization: the session must work in an organization, the named one when a param is given', async () => {
    const server = app();
    expect((await request(server).get('/org').set(bearer(plain))).status).toBe(403);
    expect((await request(server).get('/org').set(bearer(owner))).body).toEqual({ org: orgId });
    expect((await request(server).get(`/orgs/${orgId}/settings`).set(bearer(owner))).status).toBe(200);
    expect((await request(server).get('/orgs/org_other/settings').set(bearer(owner))).status).toBe(403);
  });

  it('requireRole: the role in the current organization', async () => {
    const server = app();
    expect((await request(server).delete('/org').set(bearer(owner))).status).toBe(204);
    expect((await request(server).get('/admin').set(bearer(owner))).status).toBe(403);
    expect((await request(server).delete('/org').set(bearer(plain))).status).toBe(403);
  });

  it('is an error to use a guard without the middleware', async () => {
    const server = express();
    server.get('/x', requireAuth(), (_req, res) => void res.json({}));
    server.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ message: error.message });
    });
    const response = await request(server).get('/x');
    expect(response.status).toBe(500);
    expect(response.body.message).toMatch(/mount authstack\(\)/);
  });
});
