import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningInstance, startInstance } from '../../../test-support/authstack-instance';
import { TokenVerificationError, createVerifier, verifyAccessToken } from './verify';

let instance: RunningInstance;
beforeAll(async () => {
  instance = await startInstance();
}, 60_000);
afterAll(() => instance?.stop());

function options(extra: Partial<Parameters<typeof createVerifier>[0]> = {}) {
  return { issuer: instance.issuer, audience: instance.audience, jwksUrl: instance.jwksUrl, ...extra };
}

async function refusal(promise: Promise<unknown>): Promise<TokenVerificationError> {
  const error = await promise.then(
    () => {
      throw new Error('the token was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenVerificationError);
  return error as TokenVerificationError;
}

describe('verifying access tokens against the instance JWKS', () => {
  it("accepts a real token and reads the user's claims", async () => {
    const user = await instance.signUp();
    const verifier = createVerifier(options());
    const auth = await verifier.verify(user.access_token);
    expect(auth).toMatchObject({
      userId: user.user.id,
      email: user.email,
      authMethods: ['pwd'],
      organizationId: null,
      role: null,
      permissions: [],
      token: user.access_token,
    });
    expect(auth.sessionId).toMatch(/\S/);
    expect(auth.claims.iss).toBe(instance.issuer);
    expect(verifier.jwksFetches).toBe(1);
    await verifier.verify(user.access_token);
    expect(verifier.jwksFetches).toBe(1);
  });

  it("reads the organization claims of a switched session", async () => {
    const user = await instance.signUp();
    const org = await instance.post<{ id: string }>('/v1/organizations', { name: 'Acme' }, user.access_token);
    const switched = await instance.post<{ access_token: string }>(`/v1/organizations/${org.id}/switch`, {}, user.access_token);
    const auth = await createVerifier(options()).verify(switched.access_token);
    expect(auth).toMatchObject({ organizationId: org.id, role: 'owner' });
    expect(auth.permissions).toEqual(expect.arrayContaining(['projects:create', 'members:invite', 'billing:manage']));
  });

  it("verifies a token exchanged for an organization's machine key, which has no session", async () => {
    const user = await instance.signUp();
    const org = await instance.post<{ id: string }>('/v1/organizations', { name: 'Machines' }, user.access_token);
    const switched = await instance.post<{ access_token: string }>(`/v1/organizations/${org.id}/switch`, {}, user.access_token);
    const created = await instance.post<{ key: string }>(
      `/v1/organizations/${org.id}/api-keys`,
      { name: 'ci', permissions: ['members:invite'] },
      switched.access_token,
    );
    const exchanged = await instance.post<{ access_token: string }>('/v1/organization-api-keys/token', {}, created.key);
    const auth = await createVerifier(options()).verify(exchanged.access_token);
    expect(auth).toMatchObject({
      principalType: 'org_api_key',
      sessionId: null,
      email: null,
      organizationId: org.id,
      permissions: ['members:invite'],
    });
    expect(auth.userId).toMatch(/^orgkey_/);
    // A user's token still needs its session.
    const userAuth = await createVerifier(options()).verify(user.access_token);
    expect(userAuth.principalType).toBe('user');
  });

  it('refuses a tampered token, a wrong audience or issuer, another algorithm and an expired token', async () => {
    const user = await instance.signUp();
    const [header, payload, signature] = user.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'usr_someone_else' })).toString('base64url');
    const verifier = createVerifier(options());
    expect((await refusal(verifier.verify(`${header}.${forged}.${signature}`))).code).toBe('invalid_token');
    expect((await refusal(verifier.verify(`${header}.${payload}.${signature.slice(0, -4)}AAAA`))).code).toBe('invalid_token');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    expect((await refusal(verifier.verify(`${none}.${payload}.`))).code).toBe('invalid_token');
    const hs = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'HS256' })).toString('base64url');
    expect((await refusal(verifier.verify(`${hs}.${payload}.${signature}`))).code).toBe('invalid_token');
    expect((await refusal(createVerifier(options({ audience: 'ins_other' })).verify(user.access_token))).message).toMatch(/aud/);
    expect((await refusal(createVerifier(options({ issuer: 'https://evil.example' })).verify(user.access_token))).message).toMatch(/iss/);
    const later = () => new Date(Date.now() + 2 * 3600 * 1000);
    expect((await refusal(createVerifier(options({ now: later })).verify(user.access_token))).code).toBe('token_expired');
  });

  it('fetches the JWKS again for a key it does not know, once, after a rotation', async () => {
    const before = await instance.signUp();
    const verifier = createVerifier(options({ cooldownMs: 300 }));
    await verifier.verify(before.access_token);
    expect(verifier.jwksFetches).toBe(1);

    const rotated = await instance.post<{ kid: string }>('/v1/admin/keys/rotate', {}, instance.adminKey);
    const after = await instance.signUp();
    const kid = JSON.parse(Buffer.from(after.access_token.split('.')[0]!, 'base64url').toString()).kid;
    expect(kid).toBe(rotated.kid);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await verifier.verify(after.access_token);
    expect(verifier.jwksFetches).toBe(2);
    await verifier.verify(before.access_token); // the previous key stays published
    await verifier.verify(after.access_token);
    expect(verifier.jwksFetches).toBe(2);

    // An unknown kid inside the cooldown is refused without hammering the instance.
    const [header, payload, signature] = after.access_token.split('.') as [string, string, string];
    const unknownKid = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), kid: 'k_unknown' })).toString('base64url');
    expect((await refusal(verifier.verify(`${unknownKid}.${payload}.${signature}`))).code).toBe('invalid_token');
    expect(verifier.jwksFetches).toBe(2);
  });

  it('says when the JWKS cannot be fetched, apart from a bad token', async () => {
    const user = await instance.signUp();
    const error = await refusal(createVerifier(options({ jwksUrl: 'http://127.0.0.1:9/.well-known/jwks.json' })).verify(user.access_token));
    expect(error.code).toBe('jwks_unavailable');
    const notFound = await refusal(createVerifier(options({ jwksUrl: `${instance.url}/nope` })).verify(user.access_token));
    expect(notFound.code).toBe('jwks_unavailable');
  });

  it('verifyAccessToken keeps one JWKS cache per instance', async () => {
    const user = await instance.signUp();
    let fetches = 0;
    const counting: typeof fetch = (input, init) => {
      fetches += 1;
      return fetch(input, init);
    };
    const opts = options({ fetch: counting, audience: instance.audience });
    await verifyAccessToken(user.access_token, opts);
    await verifyAccessToken(user.access_token, opts);
    await verifyAccessToken(user.access_token, { ...opts });
    expect(fetches).toBe(1);
  });
});
