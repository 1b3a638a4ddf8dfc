// Type tests of the fake instance's route table, checked by the client's typecheck
// (packages/client/tsconfig.node.json): each `@ts-expect-error` line is an answer the instance's
// OpenAPI document does not allow, so the check fails if the table's types stop refusing it.
import { FakeInstance } from './fake-instance';

export class DriftedInstance extends FakeInstance {
  constructor() {
    super();
    // @ts-expect-error: the instance has no such route.
    this.on('POST /v1/auth/sign-in', ({ reply }) => reply(200));
    // @ts-expect-error: sign-up answers 201 or 202, never 200.
    this.on('POST /v1/auth/signup', ({ body, reply }) => reply(200, this.startSession(body.email)));
    // @ts-expect-error: `Accepted` has no `sent` field.
    this.on('POST /v1/auth/password/forgot', ({ reply }) => reply(202, { status: 'ok', message: 'on its way', sent: true }));
    // @ts-expect-error: a 204 has no body.
    this.onSignedIn('POST /v1/auth/logout', ({ reply }) => reply(204, {}));
    // @ts-expect-error: logout documents no 404 to fail with.
    this.onSignedIn('POST /v1/auth/logout', ({ fail }) => fail(404, 'not_found', 'no session'));
    // @ts-expect-error: the login body has no `username`.
    this.on('POST /v1/auth/login', ({ body, fail }) => fail(401, 'invalid_credentials', body.username));
    // @ts-expect-error: an answer is built by `reply` or `fail`, not written out.
    this.on('GET /v1/me', () => ({ status: 200, body: {} }));
    // @ts-expect-error: the public configuration documents no 401, so it cannot be behind a sign-in.
    this.onSignedIn('GET /v1/config/public', ({ fail }) => fail(401, 'unauthorized', 'no'));
  }
}
